import datetime as dt

from django.urls import reverse
from django.utils import timezone

from pishkhan.offices.selectors import office_oversight
from tests.cases.factories import T0, make_office, make_staff
from tests.offices.conftest import file_case, return_case

HOUR = dt.timedelta(hours=1)


def test_oversight_shows_each_offices_volume_and_return_rate(world):
    for number in range(4):
        case = file_case(world, now=T0 + number * HOUR)
        if number == 0:
            return_case(world, case, now=T0 + 5 * HOUR)
    idle = make_office(district=world.district)

    rows = {row["office"].pk: row for row in office_oversight(since=T0 - HOUR)}

    assert rows[world.office.pk]["volume"] == 4 and rows[world.office.pk]["returned"] == 1
    assert rows[world.office.pk]["return_rate"] == 0.25 and rows[world.office.pk]["return_percent"] == 25
    assert rows[idle.pk]["volume"] == 0 and rows[idle.pk]["return_rate"] is None


def test_the_oversight_table_is_open_to_council_observers(client, world):
    now = timezone.now()  # inside the page's 365-day window
    case = file_case(world, now=now - HOUR)
    return_case(world, case, now=now)
    client.cookies["django_language"] = "en"
    client.force_login(make_staff(role="council_observer"))

    page = client.get(reverse("offices:oversight"))

    assert page.status_code == 200
    text = page.content.decode()
    assert world.office.licence_number in text and "100%" in text
