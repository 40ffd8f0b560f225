"""Dashboard pages through Django's test client: what each role sees and may change, and that
nobody sees anything of a tenant they are not a member of.

Alice owns alpha (persons + pets), Bob is a viewer of alpha, Charlie owns bravo (persons).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime

import pytest
from django.core import mail
from django.test import Client

from apps.core.grants import KeyRejected
from apps.reports.monthly import build_monthly_reports
from apps.tenants.application_types import ApplicationType
from apps.tenants.grants import resolve_key
from apps.tenants.models import ApiKey, Membership, TenantService
from apps.tenants.services import add_member, create_tenant
from apps.usage.metering import drain_usage
from apps.usage.models import DailyUsage
from harness.images import seed_image
from tests.apps.dashboard.conftest import signed_in, try_it

KEY_PATTERN = re.compile(r"ipcai_[0-9a-f]{12}_[\w-]+")
TOKEN_PATTERN = re.compile(r'name="form_token" value="([^"]+)"')


def post_key_form(client: Client, slug: str = "alpha", **fields):
    """Open the keys page, then send its form (with the page's one-use token)."""
    token = TOKEN_PATTERN.search(client.get(f"/t/{slug}/keys/").content.decode()).group(1)
    return client.post(f"/t/{slug}/keys/", {"form_token": token, "expires_on": "", **fields})


def tenant_urls(slug: str, key_id: str, event_id: str, month: str) -> list[str]:
    """Every page and download of a tenant, with real objects of that tenant in the URLs."""
    return [
        f"/t/{slug}/",
        f"/t/{slug}/keys/",
        f"/t/{slug}/keys/{key_id}/revoke/",
        f"/t/{slug}/services/",
        f"/t/{slug}/usage/",
        f"/t/{slug}/usage.csv",
        f"/t/{slug}/requests/",
        f"/t/{slug}/requests/{event_id}/",
        f"/t/{slug}/requests/{event_id}/image",
        f"/t/{slug}/requests/{event_id}/thumbnail.jpg",
        f"/t/{slug}/requests/{event_id}/record.json",
        f"/t/{slug}/try/",
        f"/t/{slug}/reports/",
        f"/t/{slug}/reports/{month}.csv",
        f"/t/{slug}/reports/{month}.json",
    ]


@pytest.fixture
def bravo_urls(tenant_b, key_b, bravo_event) -> list[str]:
    build_monthly_reports(date(2026, 1, 1), [tenant_b])
    return tenant_urls("bravo", key_b.key.public_id, bravo_event, "2026-01")


def test_the_owner_opens_every_page_and_download_of_their_tenant(charlie, bravo_urls):
    client = signed_in(charlie)
    for url in bravo_urls:
        assert client.get(url).status_code == 200, url


def test_a_member_of_another_tenant_gets_404_for_every_page_and_download(alice, bravo_urls):
    client = signed_in(alice)
    for url in bravo_urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"bravo" not in response.content.lower(), url
    assert client.get("/switch/?tenant=bravo").status_code == 404


def test_another_tenants_objects_are_404_under_your_own_tenant_too(alice, tenant_a, bravo_urls):
    """Ids of bravo's key, event and report under alpha's URLs: they do not exist there."""
    client = signed_in(alice)
    key_id = bravo_urls[2].split("/")[4]
    event_url = bravo_urls[7].replace("/t/bravo/", "/t/alpha/")
    assert client.get(f"/t/alpha/keys/{key_id}/revoke/").status_code == 404
    assert client.post(f"/t/alpha/keys/{key_id}/revoke/").status_code == 404
    assert client.get(event_url).status_code == 404
    assert client.get(event_url + "image").status_code == 404
    assert client.get("/t/alpha/reports/2026-01.csv").status_code == 404
    assert ApiKey.objects.get(public_id=key_id).revoked_at is None


def test_someone_signed_out_is_sent_to_sign_in(tenant_a):
    response = Client().get("/t/alpha/keys/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/t/alpha/keys/")


def test_signing_in_lands_on_the_users_tenant(alice, tenant_a):
    client = Client()
    page = client.get("/accounts/login/").content.decode()
    assert '<label for="id_username">' in page and '<label for="id_password">' in page
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "password"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/t/alpha/"
    assert "<h1>Alpha</h1>" in response.content.decode()


def test_signing_out_ends_the_session(alice, tenant_a):
    client = signed_in(alice)
    assert client.post("/accounts/logout/")["Location"] == "/accounts/login/"
    assert client.get("/t/alpha/")["Location"].startswith("/accounts/login/")


def test_a_user_of_several_tenants_switches_between_them(alice, tenant_a, tenant_b):
    add_member(tenant_b, alice, Membership.Role.VIEWER)
    client = signed_in(alice)
    overview = client.get("/t/alpha/").content.decode()
    assert 'value="bravo"' in overview and 'value="alpha" selected' in overview
    assert client.get("/switch/?tenant=bravo")["Location"] == "/t/bravo/"
    client.get("/t/bravo/")
    assert client.get("/")["Location"] == "/t/bravo/"  # remembered for next time


def test_a_user_without_tenant_is_told_so(db):
    from tests.apps.factories import UserFactory

    page = signed_in(UserFactory(username="dora")).get("/").content.decode()
    assert "not a member of any tenant" in page


def test_a_new_key_is_shown_once_and_works(alice, tenant_a):
    client = signed_in(alice)
    response = post_key_form(client, name="gate camera")
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    raw = KEY_PATTERN.search(response.content.decode()).group(0)
    grant = resolve_key(raw)
    assert grant.tenant_slug == "alpha"
    key = ApiKey.objects.get(public_id=grant.public_id)
    assert key.name == "gate camera" and key.created_by == alice
    assert raw not in key.secret_hash
    listing = client.get("/t/alpha/keys/").content.decode()
    assert raw not in listing and f"{key.prefix}…" in listing


def test_sending_the_key_form_twice_makes_one_key_and_shows_no_secret(alice, tenant_a):
    client = signed_in(alice)
    token = TOKEN_PATTERN.search(client.get("/t/alpha/keys/").content.decode()).group(1)
    form = {"form_token": token, "name": "door", "expires_on": ""}
    assert KEY_PATTERN.search(client.post("/t/alpha/keys/", form).content.decode())
    again = client.post("/t/alpha/keys/", form).content.decode()  # reload / double click
    assert not KEY_PATTERN.search(again)
    assert "That form was sent already" in again
    assert tenant_a.api_keys.count() == 1


def test_a_key_form_token_of_another_session_is_refused(alice, tenant_a):
    token = TOKEN_PATTERN.search(signed_in(alice).get("/t/alpha/keys/").content.decode()).group(1)
    other = signed_in(alice).post("/t/alpha/keys/", {"form_token": token, "name": "x"})
    assert not KEY_PATTERN.search(other.content.decode())
    assert not tenant_a.api_keys.exists()


def test_a_key_can_expire_on_a_chosen_day(alice, tenant_a):
    response = post_key_form(signed_in(alice), name="temporary", expires_on="2099-01-31")
    key = ApiKey.objects.get(
        public_id=resolve_key(KEY_PATTERN.search(response.content.decode()).group(0)).public_id
    )
    assert key.expires_at == datetime(2099, 1, 31, tzinfo=UTC)


def test_a_key_form_with_a_past_expiry_or_no_name_is_refused(alice, tenant_a):
    client = signed_in(alice)
    page = post_key_form(client, name="", expires_on="2001-01-01")
    text = page.content.decode()
    assert "This field is required." in text and "Pick a day after today." in text
    assert not KEY_PATTERN.search(text)
    assert not tenant_a.api_keys.exists()


def test_a_viewer_cannot_create_or_revoke_keys(bob, tenant_a, key_a):
    client = signed_in(bob)
    page = client.get("/t/alpha/keys/").content.decode()
    assert "Create key" not in page and "Revoke" not in page
    assert "viewer" in page
    assert client.post("/t/alpha/keys/", {"name": "sneaky"}).status_code == 403
    assert client.get(f"/t/alpha/keys/{key_a.key.public_id}/revoke/").status_code == 403
    assert client.post(f"/t/alpha/keys/{key_a.key.public_id}/revoke/").status_code == 403
    assert list(tenant_a.api_keys.values_list("name", flat=True)) == ["alpha camera"]
    assert resolve_key(key_a.raw).tenant_slug == "alpha"


def test_revoking_asks_first_then_the_key_stops_working(alice, key_a):
    client = signed_in(alice)
    resolve_key(key_a.raw)  # cached, like a busy camera's key
    confirm = client.get(f"/t/alpha/keys/{key_a.key.public_id}/revoke/").content.decode()
    assert "401" in confirm and "Revoke key" in confirm
    response = client.post(f"/t/alpha/keys/{key_a.key.public_id}/revoke/", follow=True)
    assert "It no longer works." in response.content.decode()
    with pytest.raises(KeyRejected):
        resolve_key(key_a.raw)


def test_owners_change_service_settings_and_the_api_sees_them(alice, key_a):
    client = signed_in(alice)
    page = client.get("/t/alpha/services/").content.decode()
    assert '<label for="id_pets-detection-min_confidence">' in page
    resolve_key(key_a.raw)
    client.post(
        "/t/alpha/services/pets-detection/",
        {
            "pets-detection-min_confidence": "0.55",
            "pets-detection-save_request_events": "on",
            "pets-detection-retention_days": "7",
        },
    )
    service = resolve_key(key_a.raw).service(ApplicationType.PETS)
    assert (service.min_confidence, service.save_request_events, service.retention_days) == (
        0.55,
        True,
        7,
    )


def test_bad_service_settings_are_refused_with_a_message(alice, tenant_a):
    client = signed_in(alice)
    response = client.post(
        "/t/alpha/services/pets-detection/",
        {"pets-detection-min_confidence": "1.5", "pets-detection-retention_days": "0"},
        follow=True,
    )
    assert "Ensure this value is less than or equal to 1.0." in response.content.decode()
    service = TenantService.objects.get(tenant=tenant_a, application_type="pets-detection")
    assert (service.min_confidence, service.retention_days) == (0.5, 30)


def test_services_the_operator_has_not_enabled_show_how_to_ask(alice, tenant_a, settings):
    settings.IPCAI_SUPPORT_EMAIL = "ops@example.org"
    client = signed_in(alice)
    page = client.get("/t/alpha/services/").content.decode()
    assert (
        "mailto:ops@example.org?subject=Please%20enable%20vehicles-detection%20for%20alpha" in page
    )
    assert (
        client.post(
            "/t/alpha/services/vehicles-detection/", {"vehicles-detection-min_confidence": "0.5"}
        ).status_code
        == 404
    )
    assert not TenantService.objects.filter(
        tenant=tenant_a, application_type="vehicles-detection"
    ).exists()


def test_a_viewer_sees_settings_but_cannot_change_them(bob, tenant_a):
    client = signed_in(bob)
    page = client.get("/t/alpha/services/").content.decode()
    assert (
        "Confidence threshold" in page
        and '<form method="post" action="/t/alpha/services' not in page
    )
    assert (
        client.post(
            "/t/alpha/services/pets-detection/", {"pets-detection-min_confidence": "0.9"}
        ).status_code
        == 403
    )


def test_try_it_runs_the_native_api_for_a_signed_in_owner(inference, alice, tenant_a):
    client = signed_in(alice, enforce_csrf=True)
    client.get("/t/alpha/try/")  # sets the CSRF cookie, as the page does
    response = try_it(
        client,
        "alpha",
        "pets-detection",
        seed_image("pets"),
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value,
    )
    assert response.status_code == 200
    body = response.json()
    assert [d["label"] for d in body["detections"]] == ["dog"] * 3
    assert (body["width"], body["height"]) == (650, 868)
    drain_usage()
    usage = DailyUsage.objects.get(tenant=tenant_a, application_type="pets-detection")
    assert (usage.requests, usage.errors, usage.objects_found) == (1, 0, 3)


def test_try_it_refuses_a_post_without_csrf_token(alice, tenant_a):
    client = signed_in(alice, enforce_csrf=True)
    response = try_it(client, "alpha", "pets-detection", seed_image("pets"))
    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_try_it_is_refused_to_viewers_outsiders_and_the_signed_out(
    charlie, bob, tenant_a, tenant_b
):
    image = seed_image("pets")
    assert try_it(signed_in(bob), "alpha", "pets-detection", image).status_code == 403
    outsider = try_it(signed_in(charlie), "alpha", "pets-detection", image)
    assert outsider.status_code == 404
    assert outsider.json()["error"]["code"] == "not_found"
    assert try_it(Client(), "alpha", "pets-detection", image).status_code == 401
    assert try_it(signed_in(charlie), "bravo", "pets-detection", image).status_code == 403


def test_try_it_keeps_the_apis_error_statuses(alice, tenant_a):
    client = signed_in(alice)
    bad = client.post(
        "/t/alpha/api/detect/pets-detection", data=b"not an image", content_type="image/jpeg"
    )
    assert bad.status_code == 400 and bad.json()["error"]["code"]
    assert (
        client.post("/t/alpha/api/detect/cars", data=b"x", content_type="image/jpeg").status_code
        == 404
    )


def test_the_overview_counts_requests_per_service_with_latency(alice, tenant_a, inference):
    client = signed_in(alice)
    for _ in range(2):
        assert try_it(client, "alpha", "pets-detection", seed_image("pets")).status_code == 200
    assert try_it(client, "alpha", "pets-detection", b"garbage").status_code == 400
    drain_usage()
    page = client.get("/t/alpha/").content.decode()
    pets = page[page.index('data-service="pets-detection"') :]
    assert re.search(r'data-stat="month-requests">3<', pets)
    assert re.search(r'data-stat="month-objects">6<', pets)
    assert "67%" in pets  # 2 of 3 succeeded
    assert re.search(r"\d+ / \d+ ms", pets)
    assert '<span id="quota-used">3</span>' in page
    assert 'id="chart-data"' in page


def test_the_quota_bar_shows_this_months_share(alice, tenant_a, inference):
    tenant_a.monthly_request_quota = 8
    tenant_a.save()
    client = signed_in(alice)
    for _ in range(2):
        assert try_it(client, "alpha", "pets-detection", seed_image("pets")).status_code == 200
    page = client.get("/t/alpha/").content.decode()  # live from the quota counter, no drain
    assert '<progress max="8" value="2"' in page
    assert '<span id="quota-used">2</span> of 8 used (25%)' in page


def test_usage_page_and_csv_cover_the_chosen_range(alice, tenant_a, inference):
    client = signed_in(alice)
    assert try_it(client, "alpha", "pets-detection", seed_image("pets")).status_code == 200
    drain_usage()
    today = datetime.now(UTC).date().isoformat()
    page = client.get(f"/t/alpha/usage/?start={today}&end={today}")
    chart = json.loads(
        re.search(r'id="usage-data"[^>]*>(.*?)</script>', page.content.decode()).group(1)
    )
    assert chart == {"days": [today], "services": {"pets-detection": [1]}, "requests": [1]}
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get(f"/t/alpha/usage.csv?start={today}&end={today}").content.decode()
            )
        )
    )
    assert rows == [
        {
            "date": today,
            "application_type": "pets-detection",
            "requests": "1",
            "successes": "1",
            "errors": "0",
            "objects": "3",
        }
    ]


def test_a_backwards_or_too_long_range_is_a_clear_400(alice, tenant_a):
    client = signed_in(alice)
    backwards = client.get("/t/alpha/usage/?start=2026-02-01&end=2026-01-01")
    assert backwards.status_code == 400
    assert "must not be before" in backwards.content.decode()
    assert client.get("/t/alpha/usage.csv?start=2020-01-01&end=2026-01-01").status_code == 400
    assert client.get("/t/alpha/usage/?start=yesterday").status_code == 400


def test_requests_show_thumbnails_with_boxes_and_open_to_image_and_json(alice, alpha_event):
    client = signed_in(alice)
    grid = client.get("/t/alpha/requests/").content.decode()
    assert f"/t/alpha/requests/{alpha_event}/thumbnail.jpg" in grid
    assert "3 objects" in grid
    thumbnail = client.get(f"/t/alpha/requests/{alpha_event}/thumbnail.jpg")
    assert thumbnail["Content-Type"] == "image/jpeg"
    detail = client.get(f"/t/alpha/requests/{alpha_event}/").content.decode()
    drawing = json.loads(re.search(r'id="drawing"[^>]*>(.*?)</script>', detail).group(1))
    assert [d["label"] for d in drawing["detections"]] == ["dog"] * 3
    assert client.get(f"/t/alpha/requests/{alpha_event}/image").content == seed_image("pets")
    record = client.get(f"/t/alpha/requests/{alpha_event}/record.json").json()
    assert record["tenant"] == "alpha" and len(record["response"]["detections"]) == 3


def test_the_requests_page_is_named_requests_in_nav_heading_and_title(alice, tenant_a):
    page = signed_in(alice).get("/t/alpha/requests/").content.decode()
    assert "<title>Requests · " in page
    assert "<h1>Requests</h1>" in page
    assert re.search(r'<a href="/t/alpha/requests/" aria-current="page">Requests</a>', page)
    assert '<a href="/t/alpha/alerts/">Alerts</a>' in page  # camera events keep their name


def test_the_first_events_paths_redirect_to_requests(alice, bob, charlie, alpha_event):
    client = signed_in(alice)
    moved = {
        "/t/alpha/events/?service=pets-detection": "/t/alpha/requests/?service=pets-detection",
        f"/t/alpha/events/{alpha_event}/": f"/t/alpha/requests/{alpha_event}/",
        f"/t/alpha/events/{alpha_event}/image": f"/t/alpha/requests/{alpha_event}/image",
        f"/t/alpha/events/{alpha_event}/thumbnail.jpg": (
            f"/t/alpha/requests/{alpha_event}/thumbnail.jpg"
        ),
        f"/t/alpha/events/{alpha_event}/record.json": (
            f"/t/alpha/requests/{alpha_event}/record.json"
        ),
    }
    for old, new in moved.items():
        response = client.get(old)
        assert (response.status_code, response["Location"]) == (301, new), old
    old_detail = f"/t/alpha/events/{alpha_event}/"
    assert signed_in(bob).get(old_detail, follow=True).status_code == 200  # a viewer
    assert signed_in(charlie).get(old_detail, follow=True).status_code == 404  # an outsider


def test_thumbnails_have_the_boxes_drawn(alice, alpha_event):
    """Along each dog box's bottom edge the thumbnail is the dog-box blue (29, 120, 216)."""
    from PIL import Image

    client = signed_in(alice)
    thumbnail = client.get(f"/t/alpha/requests/{alpha_event}/thumbnail.jpg").content
    thumb = Image.open(io.BytesIO(thumbnail)).convert("RGB")
    record = client.get(f"/t/alpha/requests/{alpha_event}/record.json").json()["response"]
    scale = thumb.width / record["width"]  # the native answer Try it received
    assert thumb.width == 360
    for box in (d["box"] for d in record["detections"]):
        x1, _, x2, y2 = (round(v * scale) for v in box)
        edge = [thumb.getpixel((x, y2 - 1)) for x in range(x1 + 4, x2 - 4)]
        red, green, blue = (sum(channel) / len(edge) for channel in zip(*edge, strict=True))
        assert blue > 150 and red < 100, (red, green, blue)


def test_requests_filter_by_service_and_day(alice, alpha_event):
    client = signed_in(alice)
    assert alpha_event in client.get("/t/alpha/requests/?service=pets-detection").content.decode()
    assert (
        alpha_event
        not in client.get("/t/alpha/requests/?service=persons-detection").content.decode()
    )
    assert alpha_event not in client.get("/t/alpha/requests/?day=2001-01-01").content.decode()


def test_requests_page_says_when_nothing_is_archived(alice, tenant_a):
    page = signed_in(alice).get("/t/alpha/requests/").content.decode()
    assert "No service saves its requests right now" in page


def test_monthly_reports_are_listed_and_downloadable(alice, tenant_a, inference):
    client = signed_in(alice)
    assert try_it(client, "alpha", "pets-detection", seed_image("pets")).status_code == 200
    drain_usage()
    month = datetime.now(UTC).date().replace(day=1)
    build_monthly_reports(month, [tenant_a])
    label = f"{month:%Y-%m}"
    assert f'data-month="{label}"' in client.get("/t/alpha/reports/").content.decode()
    rows = list(
        csv.DictReader(io.StringIO(client.get(f"/t/alpha/reports/{label}.csv").content.decode()))
    )
    assert [(r["tenant"], r["application_type"], r["requests"], r["objects"]) for r in rows] == [
        ("alpha", "pets-detection", "1", "3"),
        ("alpha", "all", "1", "3"),  # each API call once
    ]
    assert float(rows[0]["p50_latency_ms"]) > 0
    body = client.get(f"/t/alpha/reports/{label}.json").json()
    assert body["month"] == label and body["rows"][0]["successes"] == 1
    assert client.get("/t/alpha/reports/1999-01.csv").status_code == 404
    assert client.get(f"/t/alpha/reports/{label}.xml").status_code == 404


def test_password_change_and_reset(alice, tenant_a):
    client = signed_in(alice)
    response = client.post(
        "/accounts/password/change/",
        {
            "old_password": "password",
            "new_password1": "a-much-longer-passphrase",
            "new_password2": "a-much-longer-passphrase",
        },
    )
    assert response["Location"] == "/accounts/password/change/done/"
    assert Client().login(username="alice", password="a-much-longer-passphrase")
    Client().post("/accounts/password/reset/", {"email": "alice@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"http://testserver(/accounts/password/reset/\S+)", mail.outbox[0].body).group(
        1
    )
    anonymous = Client()
    form_url = anonymous.get(link)["Location"]
    anonymous.post(
        form_url,
        {"new_password1": "another-long-passphrase", "new_password2": "another-long-passphrase"},
    )
    assert Client().login(username="alice", password="another-long-passphrase")


def test_an_inactive_tenant_is_shown_as_suspended(alice, tenant_a):
    tenant_a.active = False
    tenant_a.save()
    assert "This tenant is suspended" in signed_in(alice).get("/t/alpha/").content.decode()


def test_other_tenants_of_the_same_name_prefix_are_not_matched(alice, tenant_a):
    create_tenant("alpha-2", name="Alpha 2", services=[ApplicationType.PERSONS])
    assert signed_in(alice).get("/t/alpha-2/").status_code == 404
