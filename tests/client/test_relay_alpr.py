"""Blue Iris's licence plate call (CodeProject.AI's ALPR route) through `ipcai relay`: the
frame goes to the service unchanged, with the key, and the module's answer comes back."""

from __future__ import annotations

import requests

from harness.scripted_http import Reply, scripted_server
from tests.client.test_relay import KEY_CHECK, forwarded, running_relay

ALPR_ANSWER = {
    "success": True,
    "predictions": [
        {
            "confidence": 0.93,
            "label": "Plate: 627WWI",
            "plate": "627WWI",
            "x_min": 247,
            "y_min": 372,
            "x_max": 335,
            "y_max": 402,
        }
    ],
    "message": "Found Plate: 627WWI",
    "count": 1,
}


def test_blue_iris_alpr_call_is_forwarded_unchanged_with_the_key(tmp_path):
    key = "ipcai_000000000000_k"
    with (
        scripted_server(KEY_CHECK, Reply(200, ALPR_ANSWER)) as service,
        running_relay(tmp_path, service.url, key) as (base, _),
    ):
        sent = requests.Request(
            "POST",
            f"{base}/v1/image/alpr",
            files={"upload": ("alpr.jpg", b"\xff\xd8frame", "image/jpeg")},
        ).prepare()
        with requests.Session() as session:
            assert session.send(sent, timeout=30).json() == ALPR_ANSWER
    (received,) = forwarded(service)
    assert received.path == "/v1/image/alpr"
    assert received.body == sent.body
    assert received.headers["x-api-key"] == key
