"""The office closures page: city-wide managers record and take back the days deadlines skip,
in Jalali dates; each change is audited and leaves the open deadlines to the sweep."""

import datetime as dt

import pytest
from django.urls import reverse

from pishkhan.cases.sweep import deadlines_behind, deadlines_sweep
from pishkhan.core.models import AuditEvent, Closure
from tests.portal.factories import make_citizen, make_district, make_staff

from .helpers import text_of

pytestmark = pytest.mark.django_db

PAGE = reverse("desk:closures")


@pytest.fixture
def manager(db):
    return make_staff("citywide-manager", "manager")


@pytest.fixture
def signed_in(client, english, manager):
    client.force_login(manager)
    return client


def test_only_a_manager_bound_city_wide_reaches_the_page(client, english):
    assert client.get(PAGE).status_code == 302  # to the staff sign-in
    district_manager = make_staff("district-manager", "manager", district=make_district())
    for user in (make_citizen(), make_staff("clerk", "clerk", district=make_district()), district_manager):
        client.force_login(user)
        response = client.get(PAGE)
        assert response.status_code == 403
        post = client.post(PAGE, {"date": "1404/02/21", "reason": "Snow"})
        assert post.status_code == 403
    assert "Office closures" not in text_of(client.get(reverse("desk:inbox")))
    assert not Closure.objects.exists()


def test_a_manager_records_a_closure_in_the_jalali_calendar_and_it_is_audited(signed_in, manager):
    assert "Office closures" in text_of(signed_in.get(reverse("desk:inbox")))  # in the desk's menu

    response = signed_in.post(PAGE, {"date": "۱۴۰۴/۰۲/۲۱", "reason": "Air pollution"}, follow=True)

    assert response.status_code == 200
    closure = Closure.objects.get()
    assert (closure.date, closure.reason) == (dt.date(2025, 5, 11), "Air pollution")
    audit = AuditEvent.objects.get(action="closure.added")
    assert audit.actor == manager and audit.data == {"date": "2025-05-11", "reason": "Air pollution"}
    assert "The closure was recorded" in text_of(response)
    assert deadlines_behind()  # the worker's sweep recomputes the deadlines, not this request
    assert "The open deadlines are being recomputed" in text_of(response)
    deadlines_sweep()
    assert "Every open deadline follows these closures." in text_of(signed_in.get(PAGE))


def test_a_bad_date_a_missing_reason_or_a_day_already_closed_is_refused_with_the_reason(signed_in):
    Closure.objects.create(date=dt.date(2025, 5, 11), reason="Snow")

    for data, message in [
        ({"date": "1404/12/31", "reason": "Snow"}, "1404/12/31"),  # no such day that year
        ({"date": "tomorrow", "reason": "Snow"}, "Enter a Jalali date like 1404/01/05."),
        ({"date": "1404/02/22", "reason": ""}, "This field is required."),
        ({"date": "1404/02/21", "reason": "Again"}, "Offices are already closed on"),
    ]:
        response = signed_in.post(PAGE, data)
        assert response.status_code == 400, data
        assert message in text_of(response), data
        page = response.content.decode()
        assert f'value="{data["date"]}"' in page  # kept as typed
        if data["reason"]:
            assert f'value="{data["reason"]}"' in page

    assert list(Closure.objects.values_list("reason", flat=True)) == ["Snow"]
    assert not AuditEvent.objects.filter(action="closure.added").exists()


def test_a_manager_takes_a_closure_back_and_it_is_audited(signed_in):
    closure = Closure.objects.create(date=dt.date(2099, 5, 11), reason="Snow")
    assert "Snow" in text_of(signed_in.get(PAGE))

    response = signed_in.post(reverse("desk:closure_remove", args=[closure.pk]), follow=True)

    assert response.status_code == 200 and not Closure.objects.exists()
    assert AuditEvent.objects.filter(action="closure.removed", subject="closure:2099-05-11").exists()
    assert "The closure was taken back" in text_of(response)
    # A second click, or a closure someone else removed: nothing to do, back to the page.
    again = signed_in.post(reverse("desk:closure_remove", args=[closure.pk]))
    assert again.status_code == 302
    assert signed_in.get(reverse("desk:closure_remove", args=[closure.pk])).status_code == 405


def test_the_page_speaks_persian_with_jalali_dates(client, manager):
    client.force_login(manager)
    Closure.objects.create(date=dt.date(2099, 5, 11), reason="آلودگی هوا")

    page = text_of(client.get(PAGE))

    assert "تعطیلی ادارات" in page and "آلودگی هوا" in page
    assert "۱۴۷۸" in page  # 2099-05-11 is in the Jalali year 1478, in Persian digits
    assert "2099" not in page
