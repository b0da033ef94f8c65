"""POST /api/v1/status/: anyone with a tracking code and the applicant's national ID or mobile
learns where the case stands — nothing personal — and a wrong pair learns nothing at all."""

import pytest

from pishkhan.cases.tracking import verhoeff_check_digit

pytestmark = pytest.mark.django_db

URL = "/api/v1/status/"


def ask(client, code, second_factor, **headers):
    return client.post(URL, {"tracking_code": code, "second_factor": second_factor}, format="json", **headers)


@pytest.mark.parametrize("factor", ["national_id", "mobile"])
def test_the_right_pair_shows_the_stage_and_no_personal_data(city, api, factor):
    case, citizen = city.online_a, city.citizen1
    response = ask(api, case.tracking_code, getattr(citizen, factor), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    data = response.json()
    assert data["status"] == "open" and data["service"] == "Test permit"
    assert [stage["title"] for stage in data["stages"]] == ["Check the documents"]
    text = response.content.decode()
    for personal in (citizen.national_id, citizen.mobile, citizen.first_name, citizen.last_name, "area_m2"):
        assert personal not in text
    for staff in (city.clerk_a.first_name, city.clerk_a.last_name, city.clerk_a.username):
        assert staff not in text


def test_the_second_factor_may_be_typed_as_people_type_it(city, api):
    mobile = "+98 " + city.citizen1.mobile[1:].translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert ask(api, city.online_a.tracking_code, mobile).status_code == 200


def test_an_unknown_code_and_a_wrong_second_factor_get_the_same_404(city, api):
    wrong_person = ask(api, city.online_a.tracking_code, city.citizen2.national_id)
    wrong_mobile = ask(api, city.online_a.tracking_code, "09350000000")
    body = "1" + city.online_a.tracking_code[1:-1][::-1]
    other = body + verhoeff_check_digit(body)  # well formed, but no case has it
    assert other != city.online_a.tracking_code
    no_such_case = ask(api, other, city.citizen1.national_id)
    answers = {(r.status_code, r.content) for r in (wrong_person, wrong_mobile, no_such_case)}
    assert len(answers) == 1
    assert answers.pop()[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"second_factor": "0012345679"}, "tracking_code"),
        ({"tracking_code": "12345", "second_factor": "0012345679"}, "tracking_code"),
        ({"tracking_code": "100000000007"}, "second_factor"),
    ],
    ids=["no code", "not a tracking code", "no second factor"],
)
def test_bad_input_names_the_field(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_status_is_asked_with_post_so_the_national_id_stays_out_of_urls(city, api):
    response = api.get(
        URL, {"tracking_code": city.online_a.tracking_code, "second_factor": city.citizen1.national_id}
    )
    assert response.status_code == 405


def test_guessing_second_factors_for_one_code_is_stopped_at_the_limit(city, api, settings):
    settings.API_STATUS_PER_CODE_PER_HOUR = 3
    code = city.online_a.tracking_code
    for guess in range(3):
        assert ask(api, code, f"093500000{guess:02d}").status_code == 404
    # Even the right answer waits now: the limit is on the code, whoever asks.
    blocked = ask(api, code, city.citizen1.national_id, REMOTE_ADDR="192.0.2.99", HTTP_ACCEPT_LANGUAGE="en")
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "throttled"
    assert blocked["Retry-After"]
    # Another case is not affected.
    assert ask(api, city.online_b.tracking_code, city.citizen3.national_id).status_code == 200


def test_one_address_asking_about_many_codes_is_stopped_at_the_limit(city, api, settings):
    settings.API_STATUS_PER_ADDRESS_PER_HOUR = 2
    assert ask(api, city.online_a.tracking_code, city.citizen1.national_id).status_code == 200
    assert ask(api, city.online_b.tracking_code, city.citizen3.national_id).status_code == 200
    assert ask(api, city.office_a.tracking_code, city.citizen2.national_id).status_code == 429
    other_address = ask(api, city.office_a.tracking_code, city.citizen2.national_id, REMOTE_ADDR="192.0.2.7")
    assert other_address.status_code == 200
