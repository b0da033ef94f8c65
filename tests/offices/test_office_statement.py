import csv
import datetime as dt
import io

from django.urls import reverse

from pishkhan.offices.selectors import fee_shares, office_statement
from tests.cases.factories import SMALL_FEE, T0, make_office, make_operator
from tests.offices.conftest import file_case, pay_case

# T0 is 1404/02/13; 1404/03/22 is in the next month.
NEXT_MONTH = dt.datetime(2025, 6, 12, 6, 30, tzinfo=dt.UTC)
# 23:30 in Tehran on 1404/02/31, the last day of Ordibehesht: the month is Tehran's, not UTC's.
LAST_EVENING = dt.datetime(2025, 5, 21, 20, 0, tzinfo=dt.UTC)


def test_the_statement_sums_the_fees_paid_in_the_jalali_month_with_the_office_and_city_shares(
    world, settings
):
    settings.OFFICE_FEE_SHARE_PERCENT = 20
    first = file_case(world, now=T0)
    pay_case(world, first, now=T0 + dt.timedelta(hours=6), reference="ST-1")
    late = file_case(world, now=T0)
    pay_case(world, late, now=LAST_EVENING, reference="ST-2")
    next_month = file_case(world, now=T0)
    pay_case(world, next_month, now=NEXT_MONTH, reference="ST-3")
    other_office = make_office(district=world.district)
    elsewhere = file_case(world, now=T0, office=other_office, operator=make_operator(office=other_office))
    pay_case(world, elsewhere, now=T0 + dt.timedelta(hours=6), reference="ST-4")

    statement = office_statement(world.office, year=1404, month=2)

    assert [row["tracking_code"] for row in statement["rows"]] == [first.tracking_code, late.tracking_code]
    assert statement["total"] == 2 * SMALL_FEE == 3_400_000
    assert statement["office_total"] == 680_000 and statement["city_total"] == 2_720_000
    assert statement["rows"][0]["service"] == "Test permit"
    assert office_statement(world.office, year=1404, month=3)["total"] == SMALL_FEE


def test_the_office_share_is_rounded_down_and_the_city_keeps_the_remainder():
    assert fee_shares(1001, 20) == (200, 801)
    assert fee_shares(1_700_000, 20) == (340_000, 1_360_000)


def test_the_statement_page_and_its_csv_show_the_same_totals(client, world, settings):
    settings.OFFICE_FEE_SHARE_PERCENT = 20
    case = file_case(world, now=T0)
    pay_case(world, case, now=T0 + dt.timedelta(hours=6), reference="ST-5")
    client.cookies["django_language"] = "en"
    client.force_login(world.operator)

    page = client.get(reverse("offices:statement"), {"year": "۱۴۰۴", "month": "2"})
    download = client.get(reverse("offices:statement"), {"year": "1404", "month": "2", "format": "csv"})

    assert page.status_code == 200
    text = page.content.decode()
    assert "1,700,000 Rials" in text and "340,000 Rials" in text and "1,360,000 Rials" in text
    assert download.status_code == 200 and download["Content-Type"].startswith("text/csv")
    assert download.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[1][1] == case.tracking_code
    assert rows[-1] == ["Total", "", "", "1700000", "340000", "1360000"]


def test_a_month_that_does_not_exist_is_refused_with_a_message(client, world):
    client.cookies["django_language"] = "en"
    client.force_login(world.operator)
    response = client.get(reverse("offices:statement"), {"year": "1404", "month": "13"})
    assert response.status_code == 400 and "Enter a month from 1 to 12." in response.content.decode()
    response = client.get(reverse("offices:statement"), {"year": "abc", "month": "1"})
    assert response.status_code == 400
    assert client.get(reverse("offices:statement")).status_code == 200  # this month by default
