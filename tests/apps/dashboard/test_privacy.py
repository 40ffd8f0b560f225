"""The privacy page with the trio: the owner reads and changes it, a viewer of the tenant is
refused, someone of another tenant gets 404; a required kind cannot be turned off; an erasure
from the page is logged with the user who asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.reports.models import ErasureRequest
from apps.tenants.redaction import set_required_redaction
from tests.apps.dashboard.conftest import signed_in

pytestmark = pytest.mark.django_db
URL = "/t/alpha/privacy/"


def test_owner_200_viewer_403_outsider_404(alice, bob, charlie, tenant_a, tenant_b):
    assert signed_in(alice).get(URL).status_code == 200
    assert signed_in(bob).get(URL).status_code == 403
    assert signed_in(charlie).get(URL).status_code == 404
    assert signed_in(charlie).post(URL, {"action": "redaction"}).status_code == 404


def test_the_owner_turns_plates_on_and_cannot_turn_off_required_faces(alice, tenant_a):
    set_required_redaction(tenant_a, faces=True, plates=False)
    owner = signed_in(alice)
    # A disabled field keeps its initial value whatever is posted: faces stay on.
    response = owner.post(URL, {"action": "redaction", "plates": "on"})
    assert response.status_code == 302
    tenant_a.refresh_from_db()
    assert tenant_a.redaction() == {"faces", "plates"}
    assert tenant_a.redact_faces is True


def test_an_erasure_from_the_page_is_logged_with_who_asked(alice, tenant_a, archive):
    now = datetime.now(UTC).replace(tzinfo=None)
    form = {
        "action": "erasure",
        "since": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "until": now.strftime("%Y-%m-%dT%H:%M"),
    }
    owner = signed_in(alice)
    refused = owner.post(URL, form)  # not confirmed
    assert refused.status_code == 400 and not ErasureRequest.objects.exists()
    assert owner.post(URL, {**form, "confirm": "on"}).status_code == 302
    assert ErasureRequest.objects.get(tenant=tenant_a).requested_by == "user alice"
