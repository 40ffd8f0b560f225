"""The camera settings form's sliced-inference choice: the owner sets it, the viewer and the
other tenant's owner cannot."""

from __future__ import annotations

import pytest

from apps.cameras.models import Camera
from apps.cameras.services import create_camera
from tests.apps.dashboard.conftest import signed_in

FORM = {"name": "driveway", "services": ["persons-detection"], "anchor": "bottom_center"}


@pytest.fixture
def camera(tenant_a) -> Camera:
    return create_camera(tenant_a, {"name": "driveway"})


def test_the_owner_turns_slicing_on_and_the_page_shows_it(alice, camera):
    client = signed_in(alice)
    url = f"/t/alpha/cameras/{camera.public_id}/"
    page = client.get(url).content.decode()
    assert "Look closer (sliced inference)" in page
    assert client.post(url, {**FORM, "slicing": "on"}).status_code == 302
    camera.refresh_from_db()
    assert camera.slicing == "on"
    assert '<option value="on" selected>' in client.get(url).content.decode()
    # A form without the field (an older page) keeps the default.
    assert client.post(url, FORM).status_code == 302
    camera.refresh_from_db()
    assert camera.slicing == "tier"


def test_a_bad_choice_is_shown_on_its_field(alice, camera):
    refused = signed_in(alice).post(
        f"/t/alpha/cameras/{camera.public_id}/", {**FORM, "slicing": "sometimes"}
    )
    assert refused.status_code == 400
    assert refused.context["form"].errors["slicing"]


def test_the_viewer_and_the_other_tenant_cannot_change_it(bob, charlie, tenant_b, camera):
    url = f"/t/alpha/cameras/{camera.public_id}/"
    assert signed_in(bob).post(url, {**FORM, "slicing": "on"}).status_code in (403, 404)
    assert signed_in(charlie).post(url, {**FORM, "slicing": "on"}).status_code == 404
    camera.refresh_from_db()
    assert camera.slicing == "tier"
