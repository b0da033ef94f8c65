"""The staff map: the districts with open and overdue counts, and the open cases as points, only
those the signed-in staff member may see and with no personal data of any applicant."""

import datetime as dt
import json
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from pishkhan.accounts.models import District
from pishkhan.cases.models import Position
from pishkhan.demo.geography import point_in_district
from pishkhan.demo.seed import seed_districts
from pishkhan.desk import selectors
from tests.cases.factories import (
    SMALL_ANSWERS,
    make_citizen,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

from .helpers import text_of

pytestmark = pytest.mark.django_db

MAP = reverse("desk:map")
DATA = reverse("desk:map_data")
CASE_KEYS = {"tracking_code", "service", "district", "step", "overdue", "lat", "lng", "url"}


def mapped_process() -> dict:
    """The small test process with a place on the map among its fields."""
    process = small_process(code="mapped-permit")
    process["fields"].append(
        {
            "id": "place",
            "type": "map_point",
            "label": {"fa": "محل کار", "en": "Place of work"},
            "required": False,
        }
    )
    return process


@pytest.fixture
def city(db):
    seed_districts()
    return {district.number: district for district in District.objects.all()}


@pytest.fixture
def service(db):
    return publish_definition(mapped_process())


def place_in(number: int, seed: int = 0) -> dict:
    lat, lng = point_in_district(random.Random(seed), number)
    return {"lat": lat, "lng": lng}


def file_case(service, district, *, place=True, seed=0, applicant=None):
    answers = dict(SMALL_ANSWERS)
    if place:
        answers["place"] = place_in(district.number, seed)
    return submit_case(service=service, district=district, answers=answers, applicant=applicant)


def make_overdue(case):
    Position.objects.filter(case=case, step_id="review").update(due_at=timezone.now() - dt.timedelta(days=2))


def data_of(client, **query) -> dict:
    response = client.get(DATA, query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_someone_not_signed_in_is_sent_to_the_staff_sign_in(client):
    for url in (MAP, DATA):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("accounts:staff_signin") + "?next=" + url


def test_a_citizen_is_refused_the_page_and_the_data(client, city, service):
    citizen = make_citizen()
    file_case(service, city[6], applicant=citizen)
    client.force_login(citizen)

    assert client.get(MAP).status_code == 403
    response = client.get(DATA)
    assert response.status_code == 403
    assert b"tracking_code" not in response.content


def test_a_manager_sees_the_open_cases_of_their_district_only(client, city, service):
    mine = [file_case(service, city[6], seed=k) for k in range(3)]
    others = [file_case(service, city[12], seed=k) for k in range(2)]
    make_overdue(mine[0])
    client.force_login(make_staff(role="manager", district=city[6]))

    data = data_of(client)

    codes = {case["tracking_code"] for case in data["points"]["cases"]}
    assert codes == {case.tracking_code for case in mine}
    assert not codes & {case.tracking_code for case in others}
    by_number = {f["properties"]["number"]: f["properties"] for f in data["districts"]["features"]}
    assert len(by_number) == 22
    assert (by_number[6]["open"], by_number[6]["overdue"]) == (3, 1)
    assert (by_number[12]["open"], by_number[12]["overdue"]) == (0, 0)
    overdue = {case["tracking_code"]: case["overdue"] for case in data["points"]["cases"]}
    assert overdue == {
        mine[0].tracking_code: True,
        mine[1].tracking_code: False,
        mine[2].tracking_code: False,
    }


def test_a_point_says_where_the_case_is_and_links_to_the_case_page(client, english, city, service):
    case = file_case(service, city[6], seed=3)
    client.force_login(make_staff(role="manager", district=city[6]))

    (point,) = data_of(client)["points"]["cases"]

    assert (point["lat"], point["lng"]) == (case.answers["place"]["lat"], case.answers["place"]["lng"])
    assert point["service"] == "Test permit"
    assert point["step"] == "Check the documents"
    assert point["district"] == "District 6"
    assert point["url"] == reverse("desk:inbox_case", kwargs={"tracking_code": case.tracking_code})
    assert client.get(point["url"]).status_code == 200


def test_the_data_holds_no_personal_data(client, city, service):
    citizen = make_citizen(first_name="Shirin", last_name="Tehrani")
    file_case(service, city[6], applicant=citizen)
    client.force_login(make_staff(role="auditor"))

    response = client.get(DATA)
    data = response.json()

    for case in data["points"]["cases"]:
        assert set(case) == CASE_KEYS
    text = response.content.decode()
    for secret in (
        citizen.first_name,
        citizen.last_name,
        citizen.national_id,
        citizen.mobile,
        citizen.mobile[1:],
    ):
        assert secret not in text


def test_a_case_without_a_place_is_counted_but_not_drawn(client, city, service):
    file_case(service, city[6], place=False)
    located = file_case(service, city[6], seed=1)
    client.force_login(make_staff(role="manager", district=city[6]))

    data = data_of(client)

    assert [case["tracking_code"] for case in data["points"]["cases"]] == [located.tracking_code]
    assert (
        next(f for f in data["districts"]["features"] if f["properties"]["number"] == 6)["properties"]["open"]
        == 2
    )


def test_a_staff_member_sees_only_the_cases_of_their_queue(client, city, service):
    file_case(service, city[6])
    inspector = make_staff(role="inspector", district=city[6])  # nothing is at inspection yet
    client.force_login(inspector)

    data = data_of(client)

    assert data["points"]["cases"] == []
    assert sum(f["properties"]["open"] for f in data["districts"]["features"]) == 0


def test_many_cases_come_as_groups_with_their_counts(client, city, service, monkeypatch):
    monkeypatch.setattr(selectors, "MAP_POINTS_MAX", 3)
    # Two cases close together in district 1 (the same seed twice draws the same point).
    cases = [
        file_case(service, city[number], seed=seed)
        for number, seed in ((1, 0), (1, 0), (6, 1), (20, 2), (22, 3))
    ]
    make_overdue(cases[0])
    client.force_login(make_staff(role="auditor"))

    points = data_of(client)["points"]

    assert points["grouped"] is True
    assert points["located"] == 5
    # The two cases of district 1 share a square; the others, far apart, come one by one.
    (group,) = points["groups"]
    assert set(group) == {"lat", "lng", "count", "overdue", "bounds"}
    assert (group["count"], group["overdue"]) == (2, 1)
    (south, west), (north, east) = group["bounds"]
    for case in cases[:2]:
        assert south <= case.answers["place"]["lat"] <= north and west <= case.answers["place"]["lng"] <= east
    assert {case["tracking_code"] for case in points["cases"]} == {case.tracking_code for case in cases[2:]}
    for case in points["cases"]:
        assert set(case) == CASE_KEYS


def test_the_view_narrows_the_points_to_the_area_asked_for(client, city, service):
    north = file_case(service, city[1])
    file_case(service, city[20])
    client.force_login(make_staff(role="auditor"))

    data = data_of(client, bbox="35.74,51.30,35.84,51.62", districts="0")

    assert [case["tracking_code"] for case in data["points"]["cases"]] == [north.tracking_code]
    assert "districts" not in data


@pytest.mark.parametrize("bbox", ["1,2,3", "a,b,c,d", "35.8,51.2,35.6,51.5", "nan,1,2,3", "1,2,3,4,5"])
def test_a_bad_area_is_refused_with_a_message(client, english, city, bbox):
    client.force_login(make_staff(role="auditor"))

    response = client.get(DATA, {"bbox": bbox})

    assert response.status_code == 400
    assert "south,west,north,east" in response.json()["error"]


def test_the_page_lists_the_districts_with_their_counts_in_persian(client, city, service):
    file_case(service, city[6])
    make_overdue(file_case(service, city[6], seed=1))
    client.force_login(make_staff(role="manager", district=city[6]))

    response = client.get(MAP)

    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="fa" dir="rtl">' in page
    row = page[page.index('id="district-d06"') :]
    row = row[: row.index("</tr>")]
    assert "منطقه ۶" in row and "۲" in row and "⚠ ۱" in row
    assert "منطقه ۲۲" in text_of(response)
    assert "vendor/leaflet/leaflet.js" in page and "desk/map.js" in page
    assert 'data-tiles=""' in page
    assert "http://" not in page and "https://" not in page  # no outside server by default


def test_the_page_passes_the_tiles_the_city_configured(client, settings, city):
    settings.MAP_TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
    settings.MAP_ATTRIBUTION = "© City <GIS> office"
    client.force_login(make_staff(role="auditor"))

    page = client.get(MAP).content.decode()

    assert 'data-tiles="https://tiles.example.org/{z}/{x}/{y}.png"' in page
    assert 'data-attribution="© City &lt;GIS&gt; office"' in page
    assert "case-map-plain" not in page


def test_the_map_is_in_the_desk_menu_and_leaflet_loads_only_on_its_page(client, city):
    client.force_login(make_staff(role="clerk", district=city[1]))

    page = client.get(reverse("desk:inbox")).content.decode()

    assert f'href="{MAP}"' in page
    assert "leaflet" not in page


def test_the_labels_for_the_script_are_translated(client, city):
    client.force_login(make_staff(role="auditor"))

    page = client.get(MAP).content.decode()
    start = page.index('id="case-map-labels"')
    labels = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])

    assert labels["open_case"] == "برای باز کردن پرونده کلیک کنید."
    assert all(label != "" and not label.isascii() for label in labels.values())
    assert "%(count)s" in labels["group"]
