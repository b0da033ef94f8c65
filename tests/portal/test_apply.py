"""Applying online: a signed-in citizen fills in the form drawn from the service's definition,
saves a draft, sends it once (even when clicking twice) and lands on the new case's page."""

import html as htmllib
import re

import pytest
from django.urls import reverse

from pishkhan.cases.models import Case
from pishkhan.core.text import to_persian_digits
from pishkhan.portal.models import ApplicationDraft
from tests.cases.factories import make_citizen, make_district, publish_definition, small_process

pytestmark = pytest.mark.django_db


def every_field_process(district_code: str) -> dict:
    """small_process with a form that uses every field type, a conditional field and a
    repeatable group of owners."""
    label = lambda fa, en: {"fa": fa, "en": en}  # noqa: E731
    fields = [
        {
            "id": "area_m2",
            "type": "number",
            "label": label("مساحت", "Area"),
            "required": True,
            "min": 1,
            "max": 1000,
        },
        {"id": "title", "type": "text", "label": label("عنوان", "Title")},
        {"id": "notes", "type": "textarea", "label": label("توضیحات", "Notes")},
        {"id": "budget", "type": "money", "label": label("بودجه", "Budget")},
        {
            "id": "national_id",
            "type": "national_id",
            "label": label("کد ملی", "National ID"),
            "required": True,
        },
        {"id": "mobile", "type": "mobile", "label": label("تلفن همراه", "Mobile")},
        {"id": "postal_code", "type": "postal_code", "label": label("کد پستی", "Postal code")},
        {"id": "start_on", "type": "jalali_date", "label": label("تاریخ شروع", "Start date")},
        {"id": "night_work", "type": "boolean", "label": label("کار در شب", "Night work")},
        {
            "id": "surface",
            "type": "choice",
            "label": label("نوع سطح", "Surface"),
            "options": [
                {"value": "asphalt", "label": label("آسفالت", "Asphalt")},
                {"value": "soil", "label": label("خاکی", "Soil")},
            ],
        },
        {
            "id": "asphalt_depth",
            "type": "number",
            "label": label("ضخامت آسفالت", "Asphalt depth"),
            "required": True,
            "visible_if": "surface == 'asphalt'",
        },
        {
            "id": "tools",
            "type": "multi_choice",
            "label": label("ابزار", "Tools"),
            "options": [
                {"value": "digger", "label": label("بیل مکانیکی", "Digger")},
                {"value": "truck", "label": label("کامیون", "Truck")},
            ],
        },
        {"id": "site", "type": "map_point", "label": label("محل", "Site")},
        {
            "id": "district",
            "type": "choice",
            "label": label("منطقه", "District"),
            "required": True,
            "options": [{"value": district_code, "label": label("منطقه آزمایشی", "Test district")}],
        },
        {
            "id": "owners",
            "type": "group",
            "label": label("مالکان", "Owners"),
            "repeat": {"min": 1, "max": 5},
            "fields": [
                {"id": "name", "type": "text", "label": label("نام", "Name"), "required": True},
                {"id": "share", "type": "number", "label": label("سهم", "Share"), "min": 0, "max": 6},
            ],
        },
        {"id": "deed_scan", "type": "file", "label": label("تصویر سند", "Deed scan"), "document": "deed"},
    ]
    return small_process(code="every-field", fields=fields)


@pytest.fixture
def district():
    return make_district()


@pytest.fixture
def service(district):
    return publish_definition(every_field_process(district.code))


@pytest.fixture
def citizen():
    return make_citizen()


@pytest.fixture
def signed_in(client, citizen):
    client.force_login(citizen)
    return client


def apply_url(service) -> str:
    return reverse("portal:apply", args=[service.code])


def token_of(response) -> str:
    return re.search(r'name="_token" value="([^"]+)"', response.content.decode()).group(1)


def good_answers(district, **changes) -> dict:
    answers = {
        "area_m2": "۱۲",
        "national_id": make_citizen().national_id,
        "district": district.code,
        "surface": "soil",
        "owners[0].name": "Maryam",
        "owners[0].share": "6",
    }
    answers.update(changes)
    return {k: v for k, v in answers.items() if v is not None}


def test_the_form_draws_every_field_type_with_labels_and_hints(signed_in, service):
    response = signed_in.get(apply_url(service))
    assert response.status_code == 200
    page = response.content.decode()
    for name in (
        "area_m2",
        "title",
        "budget",
        "national_id",
        "mobile",
        "postal_code",
        "start_on",
        "asphalt_depth",
    ):
        assert f'name="{name}"' in page
        assert f'<label for="f-{name}"' in page
    assert '<textarea id="f-notes" name="notes"' in page
    assert re.search(r'name="national_id"[^>]*inputmode="numeric"[^>]*dir="ltr"', page)
    assert re.search(r'type="checkbox" id="f-night_work" name="night_work"', page)
    assert page.count('type="radio"') == 3  # surface × 2, district × 1
    assert page.count('name="tools"') == 2
    assert 'name="site.lat"' in page and 'name="site.lng"' in page
    assert 'name="owners[0].name"' in page and 'data-add-row="owners"' in page
    assert 'data-visible-if-field="surface" data-visible-if-value="asphalt"' in page
    # The file field is an upload control with the document's formats; the form is multipart.
    assert re.search(
        r'<input type="file" id="f-deed_scan" name="deed_scan" accept="\.pdf,[^"]*image/jpeg"', page
    )
    assert 'enctype="multipart/form-data"' in page
    assert "apply.js" in page
    assert "ارسال درخواست" in page and "ذخیره پیش‌نویس" in page


def test_a_bad_national_id_is_named_next_to_its_field_in_persian_and_the_form_keeps_what_was_typed(
    signed_in, service, district
):
    token = token_of(signed_in.get(apply_url(service)))
    answers = good_answers(district, national_id="1234567890", title="حفاری کوچه")
    response = signed_in.post(apply_url(service), {**answers, "_token": token})
    assert response.status_code == 400
    page = htmllib.unescape(response.content.decode())
    assert 'id="f-national_id-error"' in page
    error = re.search(r'id="f-national_id-error">([^<]+)<', page).group(1)
    assert "کد ملی" in error
    assert re.search(r'aria-describedby="f-national_id-help f-national_id-error"', page)
    assert 'role="alert"' in page
    assert 'value="1234567890"' in page and 'value="حفاری کوچه"' in page and 'value="Maryam"' in page
    assert Case.objects.count() == 0


def test_a_hidden_conditional_field_is_not_required(signed_in, service, district, citizen):
    token = token_of(signed_in.get(apply_url(service)))
    # surface is soil: asphalt_depth is hidden, and its leftover (invalid) value is dropped.
    answers = good_answers(district, asphalt_depth="not a number")
    response = signed_in.post(apply_url(service), {**answers, "_token": token})
    assert response.status_code == 302
    case = Case.objects.get(applicant=citizen)
    assert "asphalt_depth" not in case.answers

    # Shown (asphalt), it is required.
    token = token_of(signed_in.get(apply_url(service)))
    response = signed_in.post(
        apply_url(service), {**good_answers(district, surface="asphalt"), "_token": token}
    )
    assert response.status_code == 400
    assert 'id="f-asphalt_depth-error"' in response.content.decode()


def test_a_repeatable_group_with_two_rows_is_sent(signed_in, service, district, citizen):
    token = token_of(signed_in.get(apply_url(service)))
    answers = good_answers(
        district, **{"owners[1].name": "Reza", "owners[1].share": "۲", "owners[0].share": "4"}
    )
    response = signed_in.post(apply_url(service), {**answers, "_token": token, "tools": ["digger", "truck"]})
    assert response.status_code == 302
    case = Case.objects.get(applicant=citizen)
    assert case.answers["owners"] == [{"name": "Maryam", "share": 4}, {"name": "Reza", "share": 2}]
    assert case.answers["tools"] == ["digger", "truck"]
    assert case.answers["area_m2"] == 12
    assert case.channel == "online" and case.filed_by == citizen


def test_a_saved_draft_fills_the_form_again(signed_in, service, district, citizen):
    answers = good_answers(district, title="نیمه‌کاره", national_id="12")
    response = signed_in.post(apply_url(service), {**answers, "_action": "draft", "_token": "x"})
    assert response.status_code == 200
    assert ApplicationDraft.objects.filter(user=citizen, service=service).count() == 1
    assert Case.objects.count() == 0

    page = signed_in.get(apply_url(service)).content.decode()
    assert 'value="نیمه‌کاره"' in page and 'value="12"' in page and 'value="Maryam"' in page
    assert re.search(rf'name="district" value="{district.code}" checked', page)

    token = token_of(signed_in.get(apply_url(service)))
    signed_in.post(apply_url(service), {**good_answers(district), "_token": token})
    assert not ApplicationDraft.objects.filter(user=citizen, service=service).exists()


def test_a_double_click_with_the_same_token_makes_one_case(signed_in, service, district, citizen):
    token = token_of(signed_in.get(apply_url(service)))
    data = {**good_answers(district), "_token": token}
    first = signed_in.post(apply_url(service), data)
    second = signed_in.post(apply_url(service), data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.filter(applicant=citizen).count() == 1


def test_success_leads_to_the_case_page_with_the_tracking_code(signed_in, service, district, citizen):
    token = token_of(signed_in.get(apply_url(service)))
    response = signed_in.post(apply_url(service), {**good_answers(district), "_token": token}, follow=True)
    case = Case.objects.get(applicant=citizen)
    assert response.redirect_chain[-1][0] == reverse("portal:my_case", args=[case.tracking_code])
    assert to_persian_digits(case.tracking_code) in response.content.decode()


def test_a_form_without_a_district_field_offers_the_districts(signed_in, district, citizen):
    service = publish_definition(small_process(code="no-district"))
    token = token_of(signed_in.get(apply_url(service)))
    response = signed_in.post(apply_url(service), {"area_m2": "5", "_token": token})
    assert response.status_code == 400
    assert 'id="f-_district-error"' in response.content.decode()
    token = token_of(response)
    response = signed_in.post(
        apply_url(service), {"area_m2": "5", "_district": district.code, "_token": token}
    )
    assert response.status_code == 302
    assert Case.objects.get(applicant=citizen).district == district


def test_a_required_file_field_sent_without_a_file_is_named_next_to_its_upload_control(signed_in, district):
    fields = [
        {"id": "area_m2", "type": "number", "label": {"fa": "مساحت"}, "required": True},
        {
            "id": "deed_scan",
            "type": "file",
            "label": {"fa": "تصویر سند"},
            "document": "deed",
            "required": True,
        },
    ]
    service = publish_definition(small_process(code="file-form", fields=fields))
    page = signed_in.get(apply_url(service)).content.decode()
    assert "apply-files" not in page and 'type="file" id="f-deed_scan"' in page
    token = token_of(signed_in.get(apply_url(service)))
    response = signed_in.post(
        apply_url(service), {"area_m2": "5", "_district": district.code, "_token": token}
    )
    assert response.status_code == 400
    assert 'id="f-deed_scan-error"' in response.content.decode()


def test_the_service_page_links_to_applying(client, service):
    page = client.get(reverse("portal:service_detail", args=[service.code])).content.decode()
    assert apply_url(service) in page


def test_someone_not_signed_in_is_sent_to_the_sms_sign_in(client, service):
    response = client.get(apply_url(service))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:citizen_signin"))
    assert "next=" in response["Location"]


def test_the_error_summary_names_the_field_of_each_message(signed_in, service, district):
    token = token_of(signed_in.get(apply_url(service)))
    answers = good_answers(district)
    answers.pop("national_id")
    response = signed_in.post(apply_url(service), {**answers, "_token": token})
    assert response.status_code == 400
    page = htmllib.unescape(response.content.decode())
    summary = page.split('role="alert"', 1)[1].split("</div>", 1)[0]
    assert "کد ملی" in summary
