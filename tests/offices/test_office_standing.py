import datetime as dt

import pytest
from django.urls import reverse

from pishkhan.cases.services import CaseError
from pishkhan.core.models import AuditEvent
from pishkhan.offices.models import OfficeStatus
from pishkhan.offices.services import OfficeError, office_licence_renew, office_reinstate, office_suspend
from tests.cases.factories import T0, make_citizen, make_staff
from tests.offices.conftest import file_case


def test_a_suspended_office_cannot_file(world):
    world.office.status = OfficeStatus.SUSPENDED
    world.office.save()
    with pytest.raises(CaseError) as refused:
        file_case(world, now=T0)
    assert refused.value.code == "office_suspended"
    assert refused.value.message == f"{world.office} is suspended and may not file requests."


def test_an_office_with_an_expired_licence_cannot_file(world):
    world.office.licence_expires_on = dt.date(2025, 5, 2)  # the day before T0
    world.office.save()
    with pytest.raises(CaseError) as refused:
        file_case(world, now=T0)
    assert refused.value.code == "office_licence_expired"
    assert refused.value.message == (
        f"The licence of {world.office} has expired; it may not file requests until it is renewed."
    )


def test_suspend_and_reinstate_are_audited_and_filing_works_again(world):
    administrator = make_staff(role="administrator")

    office_suspend(office=world.office, by=administrator, reason="Brokerage reported by citizens.")
    world.office.refresh_from_db()
    assert world.office.status == OfficeStatus.SUSPENDED
    with pytest.raises(CaseError):
        file_case(world, now=T0)
    office_reinstate(office=world.office, by=administrator)
    assert file_case(world, now=T0).office_id == world.office.pk

    events = list(AuditEvent.objects.filter(subject=f"office:{world.office.licence_number}").order_by("seq"))
    assert [event.action for event in events] == ["office.suspended", "office.reinstated"]
    assert events[0].actor_id == administrator.pk
    assert events[0].data["reason"] == "Brokerage reported by citizens."


def test_only_administrators_may_suspend_and_a_reason_is_required(world):
    for role in ("manager", "auditor", "council_observer"):
        with pytest.raises(OfficeError) as refused:
            office_suspend(office=world.office, by=make_staff(role=role), reason="Why not.")
        assert refused.value.status == 403
    with pytest.raises(OfficeError) as refused:
        office_suspend(office=world.office, by=world.operator, reason="Why not.")
    assert refused.value.status == 403
    with pytest.raises(OfficeError) as refused:
        office_suspend(office=world.office, by=make_staff(role="administrator"), reason="  ")
    assert refused.value.code == "reason_required"
    world.office.refresh_from_db()
    assert world.office.status == OfficeStatus.ACTIVE
    assert not AuditEvent.objects.filter(action__startswith="office.").exists()


def test_the_licence_is_renewed_by_an_administrator_and_audited(world):
    until = world.office.licence_expires_on + dt.timedelta(days=365)
    office_licence_renew(office=world.office, until=until, by=make_staff(role="administrator"))
    world.office.refresh_from_db()
    assert world.office.licence_expires_on == until
    assert AuditEvent.objects.filter(action="office.licence_renewed").count() == 1


def test_the_oversight_page_suspends_for_administrators_only(client, world):
    url = reverse("offices:oversight_office", args=[world.office.licence_number])
    client.cookies["django_language"] = "en"

    client.force_login(make_staff(role="auditor"))
    page = client.get(url)
    assert page.status_code == 200 and "Suspend the office" not in page.content.decode()
    assert client.post(url, {"action": "suspend", "reason": "x"}).status_code == 403

    client.force_login(make_staff(role="administrator"))
    assert "Suspend the office" in client.get(url).content.decode()
    no_reason = client.post(url, {"action": "suspend", "reason": ""})
    assert no_reason.status_code == 400 and "Give the reason" in no_reason.content.decode()
    assert client.post(url, {"action": "suspend", "reason": "Expired insurance."}).status_code == 302
    world.office.refresh_from_db()
    assert world.office.status == OfficeStatus.SUSPENDED
    assert client.post(url, {"action": "reinstate"}).status_code == 302
    world.office.refresh_from_db()
    assert world.office.status == OfficeStatus.ACTIVE
    assert AuditEvent.objects.filter(action__startswith="office.").count() == 2


def test_the_oversight_pages_are_refused_to_citizens_operators_and_clerks(client, world):
    url = reverse("offices:oversight")
    assert client.get(url).status_code == 302
    for user in (make_citizen(), world.operator, world.clerk):
        client.force_login(user)
        assert client.get(url).status_code == 403
