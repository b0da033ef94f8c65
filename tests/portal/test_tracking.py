"""Anonymous tracking at `/track/`: a tracking code and the applicant's national ID or mobile show
where a case stands, and nothing personal; a wrong guess and an unknown code read the same; the
lookups are rate limited; a GET never looks anything up."""

import html as htmllib
import re

import pytest
from django.urls import reverse

from pishkhan.cases.tracking import tracking_code_new
from pishkhan.core.models import RateLimitHit
from pishkhan.core.text import to_persian_digits
from pishkhan.portal import views as portal_views
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process, submit_case

pytestmark = pytest.mark.django_db

NO_MATCH_FA = "هیچ پرونده‌ای با این کد رهگیری و کد ملی یا شماره همراه پیدا نشد"


def text_of(response) -> str:
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def case():
    service = publish_definition(small_process())
    applicant = make_citizen(first_name="Shirin", last_name="Tavakoli")
    return submit_case(service=service, applicant=applicant, district=make_district())


def track(client, tracking_code, second_factor):
    return client.post(reverse("track"), {"tracking_code": tracking_code, "second_factor": second_factor})


def test_the_tracking_page_shows_the_status_in_persian_and_no_personal_data(client, case):
    applicant = case.applicant
    # Typed as people type it: Persian digits, the code in groups.
    code = to_persian_digits(f"{case.tracking_code[:4]}-{case.tracking_code[4:8]}-{case.tracking_code[8:]}")

    response = track(client, code, to_persian_digits(applicant.national_id))

    assert response.status_code == 200
    text = text_of(response)
    assert 'lang="fa"' in response.content.decode()
    assert "مجوز آزمایشی" in text  # the service
    assert "در جریان" in text  # the status in plain words
    assert "بررسی مدارک" in text  # the current stage
    assert to_persian_digits(case.tracking_code) in text
    html = response.content.decode()
    for personal in (
        applicant.national_id,
        to_persian_digits(applicant.national_id),
        applicant.mobile,
        to_persian_digits(applicant.mobile),
        "Shirin",
        "Tavakoli",
    ):
        assert personal not in html


def test_the_mobile_number_works_as_the_second_factor_and_english_follows_the_language(client, case):
    client.cookies["django_language"] = "en"

    response = track(client, case.tracking_code, case.applicant.mobile)

    assert response.status_code == 200
    text = text_of(response)
    assert 'lang="en"' in response.content.decode()
    assert "Test permit" in text and "Check the documents" in text and "Track your case" in text


def test_a_wrong_second_factor_and_an_unknown_code_give_the_same_message(client, case):
    wrong_factor = track(client, case.tracking_code, make_citizen().national_id)
    unknown_code = track(client, tracking_code_new(), case.applicant.national_id)

    assert wrong_factor.status_code == unknown_code.status_code == 404
    assert NO_MATCH_FA in text_of(wrong_factor)
    assert NO_MATCH_FA in text_of(unknown_code)
    assert "مجوز آزمایشی" not in text_of(wrong_factor)
    # What was typed stays in the form, to correct it.
    assert f'value="{case.tracking_code}"' in wrong_factor.content.decode()


def test_a_mistyped_code_is_refused_without_a_lookup_and_kept_in_the_form(client, case, monkeypatch):
    monkeypatch.setattr(portal_views, "case_public_status", lambda **kwargs: pytest.fail("looked up"))

    response = track(client, "12345", "")

    assert response.status_code == 400
    assert 'value="12345"' in response.content.decode()
    assert RateLimitHit.objects.count() == 0


def test_too_many_lookups_of_one_code_get_a_429_with_a_clear_message(client, case, settings):
    settings.API_STATUS_PER_CODE_PER_HOUR = 2
    for _attempt in range(2):
        assert track(client, case.tracking_code, "0000000000").status_code == 404

    response = track(client, case.tracking_code, case.applicant.national_id)

    assert response.status_code == 429
    assert "درخواست‌های زیادی برای این کد رهگیری" in text_of(response)
    assert "مجوز آزمایشی" not in text_of(response)


def test_too_many_lookups_from_one_address_get_a_429(client, case, settings):
    settings.API_STATUS_PER_ADDRESS_PER_HOUR = 1
    track(client, tracking_code_new(), "0000000000")

    response = track(client, case.tracking_code, case.applicant.national_id)

    assert response.status_code == 429
    assert "از اتصال شما" in text_of(response)


def test_a_get_of_the_tracking_page_never_looks_a_case_up(client, case, monkeypatch):
    monkeypatch.setattr(portal_views, "case_public_status", lambda **kwargs: pytest.fail("looked up"))

    response = client.get(
        reverse("track"), {"tracking_code": case.tracking_code, "second_factor": case.applicant.national_id}
    )

    assert response.status_code == 200
    assert "مجوز آزمایشی" not in text_of(response)
    assert RateLimitHit.objects.count() == 0


def test_the_home_page_links_to_tracking(client):
    response = client.get(reverse("core:home"))

    assert reverse("track") in response.content.decode()
