import datetime as dt

from django.urls import reverse

from pishkhan.cases.services import case_advance, case_withdraw
from pishkhan.core.text import to_persian_digits
from pishkhan.offices.selectors import office_cases, office_dashboard
from tests.cases.factories import T0, make_citizen, make_office, make_operator, make_staff
from tests.offices.conftest import HOUR, file_case, pay_case, return_case

DAY = dt.timedelta(days=1)
# 1404/01/20: the month before T0's (1404/02/13).
LAST_MONTH = dt.datetime(2025, 4, 9, 6, 30, tzinfo=dt.UTC)


def test_the_dashboard_counts_cases_filed_this_month_in_progress_returned_and_closed(world):
    in_progress = file_case(world, now=T0)
    returned = file_case(world, now=T0 + HOUR)
    return_case(world, returned, now=T0 + 2 * HOUR)
    paid = file_case(world, now=T0 + 3 * HOUR)
    pay_case(world, paid, now=T0 + 8 * HOUR, reference="DASH-1")  # waits for issuing: open
    withdrawn = file_case(world, now=LAST_MONTH)
    case_withdraw(case=withdrawn, actor=world.operator, now=LAST_MONTH + HOUR)
    rejected = file_case(world, now=LAST_MONTH + DAY)
    case_advance(
        case=rejected,
        step_id="review",
        outcome="reject",
        actor=world.clerk,
        reason="Not a permit matter.",
        now=LAST_MONTH + DAY + HOUR,
    )

    counts = office_dashboard(world.office, now=T0 + DAY)

    assert counts["filed_this_month"] == 3
    assert counts["in_progress"] == 2  # in_progress and paid
    assert counts["returned"] == 1
    assert counts["closed"] == 2
    assert office_cases(world.office).first().pk == paid.pk
    assert in_progress.pk in {case.pk for case in office_cases(world.office, status="open")}


def test_the_operator_sees_their_office_and_its_cases_newest_first(client, world):
    first = file_case(world, now=T0)
    second = file_case(world, now=T0 + HOUR)
    client.cookies["django_language"] = "en"
    client.force_login(world.operator)

    page = client.get(reverse("offices:dashboard"))

    assert page.status_code == 200
    text = page.content.decode()
    assert world.office.name in text
    assert text.index(second.tracking_code) < text.index(first.tracking_code)
    assert reverse("portal:my_case", args=[first.tracking_code]) in text
    # The operator of the filing office may open the citizen-facing case page.
    assert client.get(reverse("portal:my_case", args=[first.tracking_code])).status_code == 200


def test_another_offices_operator_does_not_see_these_cases(client, world):
    case = file_case(world, now=T0)
    stranger = make_operator(office=make_office(district=world.district))
    client.cookies["django_language"] = "en"
    client.force_login(stranger)

    page = client.get(reverse("offices:dashboard"))

    assert page.status_code == 200 and case.tracking_code not in page.content.decode()
    assert client.get(reverse("portal:my_case", args=[case.tracking_code])).status_code == 404


def test_the_licence_warning_shows_within_thirty_days_and_when_expired(client, world):
    client.cookies["django_language"] = "en"
    client.force_login(world.operator)
    world.office.licence_expires_on = dt.date.today() + dt.timedelta(days=10)
    world.office.save()
    assert "The licence expires in" in client.get(reverse("offices:dashboard")).content.decode()
    world.office.licence_expires_on = dt.date.today() - dt.timedelta(days=2)
    world.office.save()
    assert "The licence has expired" in client.get(reverse("offices:dashboard")).content.decode()


def test_citizens_and_staff_are_refused_and_anonymous_visitors_sent_to_sign_in(client, world):
    anonymous = client.get(reverse("offices:dashboard"))
    assert anonymous.status_code == 302 and reverse("accounts:staff_signin") in anonymous["Location"]
    client.force_login(make_citizen())
    assert client.get(reverse("offices:dashboard")).status_code == 403
    assert client.get(reverse("offices:statement")).status_code == 403
    client.force_login(make_staff(role="clerk", district=world.district))
    assert client.get(reverse("offices:dashboard")).status_code == 403


def test_the_pages_speak_persian_with_persian_digits(client, world, settings):
    case = file_case(world, now=T0)
    pay_case(world, case, now=T0 + 6 * HOUR, reference="FA-1")
    client.force_login(world.operator)
    dashboard = client.get(reverse("offices:dashboard")).content.decode()
    statement = client.get(reverse("offices:statement"), {"year": "1404", "month": "2"}).content.decode()
    assert "پرونده‌های ثبت‌شده" in dashboard and to_persian_digits(case.tracking_code) in dashboard
    assert "سهم دفتر" in statement and "۱٬۷۰۰٬۰۰۰ ریال" in statement and "اردیبهشت" in statement
