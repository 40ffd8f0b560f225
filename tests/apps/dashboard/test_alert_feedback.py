"""Feedback and health in the dashboard: the verdict buttons on the Alerts timeline and the
alert page, the camera page's learned areas (over its frame, with counts, removable), its
precision and suggestions (applied with one click) and its health, the health on the cameras
list. Owners and admins change, viewers only see, outsiders get 404 everywhere."""

from __future__ import annotations

import pytest

from apps.alerts import alerting
from apps.alerts.feedback import learned_areas
from apps.alerts.feedback.models import EventVerdict, LearnedArea
from apps.alerts.frames import CameraFrame, track_camera_frame
from apps.cameras.models import Camera
from apps.cameras.services import create_camera, set_health
from apps.tenants.models import Membership
from apps.tenants.services import add_member
from harness.images import seed_image
from tests.apps.dashboard.conftest import signed_in
from tests.apps.factories import UserFactory

BOX = [10.0, 20.0, 110.0, 320.0]


@pytest.fixture(autouse=True)
def _setup(settings, archive):
    alerting._settings_cache.clear()
    learned_areas._cache.clear()


@pytest.fixture
def camera_a(tenant_a) -> Camera:
    return create_camera(tenant_a, {"name": "porch cam"})


def visit(camera: Camera, start: float) -> str:
    """Three frames of a person at BOX; the id of the alert they open."""
    return send_visit(camera, start)[-1][0]["id"]


def send_visit(camera: Camera, start: float) -> list[list[dict]]:
    answers = []
    for i in range(3):
        detections = [{"label": "person", "score": 0.6, "box": BOX, "zones": []}]
        answers.append(
            track_camera_frame(
                CameraFrame(
                    camera.tenant_id,
                    camera.pk,
                    start + i * 0.2,
                    detections,
                    seed_image("persons"),
                    546,
                    819,
                )
            )
        )
    return answers


@pytest.fixture
def alert_a(camera_a) -> str:
    return visit(camera_a, 1000.0)


@pytest.fixture
def admin_a(tenant_a):
    user = UserFactory(username="dana")
    add_member(tenant_a, user, Membership.Role.ADMIN)
    return user


def test_the_timeline_and_the_alert_page_have_the_verdict_buttons_for_managers(alice, bob, alert_a):
    for user, shown in ((alice, True), (bob, False)):
        client = signed_in(user)
        for path in ("/t/alpha/alerts/", f"/t/alpha/alerts/{alert_a}/"):
            page = client.get(path).content.decode()
            assert (f'data-feedback="{alert_a}"' in page) is shown, (user, path)


@pytest.mark.parametrize("who", ["alice", "dana"])
def test_an_owner_or_admin_marks_a_false_alarm_and_the_camera_learns_it(
    who, alice, admin_a, alert_a, camera_a
):
    client = signed_in(alice if who == "alice" else admin_a)
    answer = client.post(
        f"/t/alpha/alerts/{alert_a}/feedback",
        {"verdict": "false_alarm", "note": "the coat rack", "next": "/t/alpha/alerts/"},
    )
    assert answer.status_code == 302 and answer["Location"] == "/t/alpha/alerts/"
    verdict = EventVerdict.objects.get(event_id=alert_a)
    assert verdict.verdict == "false_alarm" and verdict.given_by == (
        "alice" if who == "alice" else "dana"
    )
    timeline = client.get("/t/alpha/alerts/").content.decode()
    assert 'data-verdict="false_alarm"' in timeline
    # The same spot again, long after: held back, no alert; the camera page shows the count.
    changes = [c for answer in send_visit(camera_a, 5000.0) for c in answer]
    assert [c["type"] for c in changes] == ["closed"]  # the first visit's end; nothing opens
    page = client.get(f"/t/alpha/cameras/{camera_a.public_id}/").content.decode()
    area = LearnedArea.objects.get()
    assert f'data-area="{area.pk}"' in page and "3 held" in page
    assert 'data-quality="person"' in page


def test_an_open_redirect_is_not_followed(alice, alert_a):
    answer = signed_in(alice).post(
        f"/t/alpha/alerts/{alert_a}/feedback",
        {"verdict": "confirmed", "next": "https://evil.example/"},
    )
    assert answer["Location"] == f"/t/alpha/alerts/{alert_a}/"


def test_removing_a_learned_area_from_the_camera_page_restores_alerts(alice, alert_a, camera_a):
    client = signed_in(alice)
    client.post(f"/t/alpha/alerts/{alert_a}/feedback", {"verdict": "false_alarm"})
    area = LearnedArea.objects.get()
    removed = client.post(f"/t/alpha/cameras/{camera_a.public_id}/learned-areas/{area.pk}/remove")
    assert removed.status_code == 302 and not LearnedArea.objects.exists()
    assert visit(camera_a, 5000.0)  # opens an alert again


def test_a_suggestion_is_applied_with_one_click(alice, camera_a):
    client = signed_in(alice)
    confirmed = visit(camera_a, 1000.0)
    client.post(f"/t/alpha/alerts/{confirmed}/feedback", {"verdict": "confirmed"})
    # a weaker box elsewhere (not held back by any area): a false alarm
    frames = [
        CameraFrame(
            camera_a.tenant_id,
            camera_a.pk,
            3000 + i * 0.2,
            [{"label": "person", "score": 0.52, "box": [300, 300, 340, 380], "zones": []}],
            seed_image("persons"),
            546,
            819,
        )
        for i in range(3)
    ]
    wrong = [track_camera_frame(f) for f in frames][-1][0]["id"]
    client.post(f"/t/alpha/alerts/{wrong}/feedback", {"verdict": "false_alarm"})
    page = client.get(f"/t/alpha/cameras/{camera_a.public_id}/").content.decode()
    assert "keeps 1 of 1 confirmed, drops 1 of 1 false alarms" in page
    applied = client.post(
        f"/t/alpha/cameras/{camera_a.public_id}/feedback-apply",
        {"setting": "threshold", "label": "person"},
    )
    assert applied.status_code == 302
    assert Camera.objects.get(pk=camera_a.pk).class_thresholds == {"person": 0.6}


def test_a_viewer_sees_but_cannot_change(bob, alert_a, camera_a):
    client = signed_in(bob)
    assert (
        client.post(f"/t/alpha/alerts/{alert_a}/feedback", {"verdict": "confirmed"}).status_code
        == 403
    )
    base = f"/t/alpha/cameras/{camera_a.public_id}"
    assert client.post(f"{base}/feedback-apply", {"setting": "min_size"}).status_code == 403
    assert client.post(f"{base}/learned-areas/1/remove").status_code == 403
    assert not EventVerdict.objects.exists()
    assert client.get(f"{base}/").status_code == 200


def test_an_outsider_gets_404_everywhere(charlie, alert_a, camera_a):
    client = signed_in(charlie)
    base = f"/t/alpha/cameras/{camera_a.public_id}"
    assert (
        client.post(f"/t/alpha/alerts/{alert_a}/feedback", {"verdict": "confirmed"}).status_code
        == 404
    )
    assert client.post(f"{base}/feedback-apply", {"setting": "min_size"}).status_code == 404
    assert client.post(f"{base}/learned-areas/1/remove").status_code == 404
    assert not EventVerdict.objects.exists()


def test_health_shows_on_the_cameras_list_and_the_camera_page(alice, camera_a):
    set_health(camera_a.pk, "tampered", "covered")
    client = signed_in(alice)
    listing = client.get("/t/alpha/cameras/").content.decode()
    assert 'data-health="tampered"' in listing and "tampered: covered" in listing
    page = client.get(f"/t/alpha/cameras/{camera_a.public_id}/").content.decode()
    assert 'data-health="tampered"' in page
