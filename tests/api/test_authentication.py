"""Who gets in: tokens for integrations (made by `pishkhan manage api_token`), the website's session
for people, CSRF checked for sessions and not needed with a token."""

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from pishkhan.core.models import AuditEvent
from tests.cases.factories import make_citizen, make_operator, make_staff

pytestmark = pytest.mark.django_db


def api_token(*args) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip()


def test_an_administrator_makes_a_token_for_an_office_and_it_is_printed_once(city):
    key = api_token(city.operator_x.username)
    assert Token.objects.get(user=city.operator_x).key == key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = client.get("/api/v1/cases/")
    assert response.status_code == 200
    assert [row["tracking_code"] for row in response.json()["results"]] == [city.office_a.tracking_code]
    with pytest.raises(CommandError, match="--rotate"):
        api_token(city.operator_x.username)
    # The audit log says a token was made, never what it is.
    event = AuditEvent.objects.get(action="api_token.created")
    assert event.subject == f"user:{city.operator_x.pk}"
    assert key not in str(event.data) and key not in event.actor_label


def test_rotating_a_token_stops_the_old_one_at_once(city):
    old = api_token(city.clerk_a.username)
    new = api_token(city.clerk_a.username, "--rotate")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/v1/queue/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get("/api/v1/queue/").status_code == 200
    assert AuditEvent.objects.filter(action="api_token.rotated").count() == 1


def test_a_revoked_token_no_longer_works(city):
    key = api_token(city.clerk_a.username)
    api_token(city.clerk_a.username, "--revoke")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/queue/").status_code == 401
    with pytest.raises(CommandError, match="has no API token"):
        api_token(city.clerk_a.username, "--revoke")


def test_citizens_disabled_and_unknown_accounts_get_no_token():
    citizen = make_citizen()
    with pytest.raises(CommandError, match="citizens sign in on the website"):
        api_token(citizen.username)
    disabled = make_staff(role="clerk", is_active=False)
    with pytest.raises(CommandError, match="disabled"):
        api_token(disabled.username)
    with pytest.raises(CommandError, match="No account"):
        api_token("nobody")
    assert not Token.objects.exists()


def test_a_citizens_token_made_some_other_way_is_refused(client_for):
    citizen = make_citizen()
    response = client_for(citizen, token=True, language="en").get("/api/v1/cases/")
    assert response.status_code == 401
    assert "citizens sign in on the website" in response.json()["detail"]


def test_an_anonymous_caller_is_told_to_send_a_token(api):
    response = api.get("/api/v1/cases/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["code"] == "not_authenticated"


def test_a_wrong_token_is_401_even_on_public_endpoints(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert api.get("/api/v1/services/").status_code == 401


def test_a_session_needs_the_csrf_token_for_a_post_and_a_token_does_not(city):
    url = f"/api/v1/cases/{city.online_a.tracking_code}/steps/review/claim/"
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(city.clerk_a)
    refused = browser.post(url, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    assert city.online_a.positions.get().state == "queued"

    # With the CSRF cookie echoed in the header, as the site's scripts send it.
    browser.cookies.load({"csrftoken": "x" * 32})
    allowed = browser.post(url, HTTP_X_CSRFTOKEN="x" * 32)
    assert allowed.status_code == 200

    integration = APIClient(enforce_csrf_checks=True)
    integration.credentials(HTTP_AUTHORIZATION=f"Token {api_token(city.clerk_a.username)}")
    assert integration.post(url.replace("claim", "release")).status_code == 200


def test_an_operator_token_files_for_its_office_only(city, client_for):
    other_office = client_for(make_operator(office=city.office_y), token=True)
    response = other_office.get(f"/api/v1/cases/{city.office_a.tracking_code}/")
    assert response.status_code == 404
