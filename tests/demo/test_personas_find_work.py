"""Issue 6's promise: every persona `pishkhan demo` prints can sign in and finds work. A small demo
city with a few weeks of cases at the full demo's pace (tests.demo.small_city) is seeded once for
the module; each persona signs in through the real pages — the citizen with the SMS code, staff and
the office operator with the demo password and their authenticator code — lands on their own start
page, and finds work on it."""

import re

import pyotp
import pytest
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from pishkhan.accounts.models import District, User
from pishkhan.accounts.sms.contrib.file.plugin import read_messages
from pishkhan.cases.models import Case, CaseStatus, Position, PositionState
from pishkhan.demo.history import FEATURED_CASES
from pishkhan.demo.seed import DEMO_CITIZEN_MOBILE, DEMO_PASSWORD, PERSONAS, demo_totp_secret
from pishkhan.offices.models import Office
from tests.demo.small_city import demo_bank_copy, small_demo_city_seed

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo city and its history, seeded once inside a transaction rolled back at the
    end of the module; each test runs in a savepoint inside it."""
    from pishkhan.accounts.models import Role
    from pishkhan.accounts.roles import STANDARD_ROLES

    bank = demo_bank_copy(tmp_path_factory.mktemp("demo-bank"))
    with (
        django_db_blocker.unblock(),
        override_settings(PROCESS_BANK_DIR=bank, MEDIA_ROOT=tmp_path_factory.mktemp("media")),
        transaction.atomic(),
    ):
        Role.objects.bulk_create(
            [
                Role(code=code, name_fa=fa, name_en=en, description=about)
                for code, fa, en, about in STANDARD_ROLES
            ],
            ignore_conflicts=True,
        )
        report = small_demo_city_seed()
        yield report
        transaction.set_rollback(True)


@pytest.fixture
def client(client, settings):
    """The test client in English (the assertions read English words), texting to the SMS file."""
    settings.SMS_PROVIDER = "file"
    client.cookies["django_language"] = "en"
    return client


def final_path(response) -> str:
    return response.redirect_chain[-1][0] if response.redirect_chain else response.request["PATH_INFO"]


def citizen_signs_in(client, mobile=DEMO_CITIZEN_MOBILE):
    """The SMS sign-in, as on the site: the mobile, then the code the SMS brought."""
    response = client.post(reverse("accounts:citizen_signin"), {"mobile": mobile})
    assert response.status_code == 302, response.content.decode()[:500]
    texts = [m["text"] for m in read_messages() if m["to"] == mobile]
    code = re.search(r"\b(\d{6})\b", texts[-1]).group(1)
    return client.post(reverse("accounts:citizen_signin_code"), {"code": code}, follow=True)


def staff_signs_in(client, username: str):
    """The staff sign-in, as on the site: the demo password, then the code of the account's
    authenticator (what `pishkhan totp USERNAME` prints)."""
    response = client.post(
        reverse("accounts:staff_signin"), {"username": username, "password": DEMO_PASSWORD}
    )
    assert (response.status_code, response["Location"]) == (302, reverse("accounts:staff_signin_totp"))
    code = pyotp.TOTP(demo_totp_secret(username)).now()
    return client.post(reverse("accounts:staff_signin_totp"), {"code": code}, follow=True)


def test_the_demo_citizen_lands_on_my_cases_with_recent_cases_and_one_waiting_for_her(demo_city, client):
    response = citizen_signs_in(client)

    assert response.status_code == 200
    assert final_path(response) == reverse("portal:my_cases")
    rows = response.context["rows"]
    assert len(rows) >= FEATURED_CASES
    assert any(row["case"].status == CaseStatus.OPEN for row in rows)
    # What waits for her at the end is up to the simulated history: this one leaves a few of her
    # cases with her — a correction asked, a fee due, or work of her own on site (a `citizen`
    # step). Each is flagged in the list, and its page says it waits for her.
    waiting = set(
        Position.objects.filter(
            case__applicant__mobile=DEMO_CITIZEN_MOBILE, state=PositionState.WITH_CITIZEN
        ).values_list("case__tracking_code", flat=True)
    )
    assert waiting
    assert {row["case"].tracking_code for row in rows if row["with_applicant"]} == waiting
    assert "Something waits for you" in response.content.decode()
    to_answer = 0
    for tracking_code in waiting:
        case_page = client.get(reverse("portal:my_case", args=[tracking_code]))
        assert case_page.status_code == 200
        assert any(stage["with_applicant"] for stage in case_page.context["stages"])
        to_answer += bool(case_page.context["corrections"] or case_page.context["payments"])
    assert to_answer, "none of her waiting cases asks for a correction or a payment"


def test_clerk01_lands_on_a_queue_of_steps_in_district_1(demo_city, client):
    response = staff_signs_in(client, "clerk01")

    assert final_path(response) == reverse("desk:inbox")
    rows = response.context["rows"]
    assert rows
    district_1 = District.objects.get(number=1)
    assert {row["position"].district_id for row in rows} == {district_1.pk}
    assert all(row["position"].state in (PositionState.QUEUED, PositionState.CLAIMED) for row in rows)
    # and can open the first case of the queue
    case = client.get(reverse("desk:inbox_case", args=[rows[0]["case"].tracking_code]))
    assert case.status_code == 200


@pytest.mark.parametrize("username", ["inspector01", "signatory01"])
def test_the_inspector_and_the_signatory_land_on_a_queue_with_steps(demo_city, client, username):
    response = staff_signs_in(client, username)

    assert final_path(response) == reverse("desk:inbox")
    assert response.context["rows"]


def test_manager01_lands_on_the_team_page_with_district_1s_workload_and_overdue_steps(demo_city, client):
    team = staff_signs_in(client, "manager01")

    assert final_path(team) == reverse("desk:inbox_team")
    load = team.context["load"]
    assert load["total"] > 0 and load["overdue"] > 0
    district_1 = District.objects.get(number=1)
    assert {row["district_id"] for row in load["by_role"]} == {district_1.pk}
    overdue = re.findall(r'id="step-(\d+)"', team.content.decode())
    assert overdue
    assert Position.objects.get(pk=overdue[0]).district_id == district_1.pk


def test_office101_lands_on_the_office_dashboard_with_the_cases_it_filed(demo_city, client):
    response = staff_signs_in(client, "office101")

    assert final_path(response) == reverse("offices:dashboard")
    office = Office.objects.get(licence_number="EO-101")
    assert response.context["office"] == office
    filed = list(response.context["cases"])
    assert filed
    assert all(case.office_id == office.pk for case in filed)
    assert filed[0].tracking_code in response.content.decode()


def test_the_process_owner_lands_on_the_process_bank_and_may_edit_the_building_permit_draft(
    demo_city, client
):
    response = staff_signs_in(client, "owner")

    assert final_path(response) == reverse("desk:process_list")
    rows = {row["service"].code: row for row in response.context["rows"]}
    assert rows["building-permit"]["drafts"] == 1

    detail = client.get(reverse("desk:process_detail", args=["building-permit"]))
    edit = reverse("desk:version_edit", args=["building-permit", 2])
    assert edit in detail.content.decode()
    assert client.get(edit).status_code == 200


def test_the_auditor_lands_on_the_map_of_every_open_case_and_opens_any_of_them(demo_city, client):
    # Nothing waits in the auditor's own queue (the building permit's audit step comes late in
    # the process): the desk shows the map of the city's open cases instead.
    response = staff_signs_in(client, "auditor")

    assert final_path(response) == reverse("desk:map")
    open_cases = Case.objects.filter(status__in=(CaseStatus.OPEN, CaseStatus.WITH_CITIZEN))
    assert response.context["total_open"] == open_cases.count() > 0
    far_away = open_cases.exclude(district__number=1).first()
    assert client.get(reverse("desk:inbox_case", args=[far_away.tracking_code])).status_code == 200


def test_the_council_observer_lands_on_the_map_and_reads_the_offices_oversight(demo_city, client):
    response = staff_signs_in(client, "observer")

    assert final_path(response) == reverse("desk:map")
    assert response.context["total_open"] > 0 and response.context["total_overdue"] > 0
    oversight = client.get(reverse("offices:oversight"))
    assert oversight.status_code == 200
    assert "EO-101" in oversight.content.decode()


def test_every_persona_the_demo_prints_signs_in_and_lands_on_a_page_of_their_own(demo_city, client):
    landing = {}
    for persona in PERSONAS:
        response = staff_signs_in(client, persona.username)
        assert response.status_code == 200, persona.username
        landing[persona.username] = final_path(response)
        client.post(reverse("accounts:signout"))
    assert landing == {
        "clerk01": reverse("desk:inbox"),
        "manager01": reverse("desk:inbox_team"),
        "manager00": reverse("desk:inbox_team"),
        "office101": reverse("offices:dashboard"),
        "owner": reverse("desk:process_list"),
        "auditor": reverse("desk:map"),
        "inspector01": reverse("desk:inbox"),
        "signatory01": reverse("desk:inbox"),
        "observer": reverse("desk:map"),
        "admin": reverse("admin:index"),
    }
    assert User.objects.filter(username__in=landing, last_login__isnull=False).count() == len(PERSONAS)


def test_the_header_leads_each_signed_in_person_back_to_their_start_page(demo_city, client):
    for person, start in [
        (User.objects.get(mobile=DEMO_CITIZEN_MOBILE), reverse("portal:my_cases")),
        (User.objects.get(username="clerk01"), reverse("desk:home")),
        (User.objects.get(username="office101"), reverse("offices:dashboard")),
    ]:
        client.force_login(person)
        page = client.get(reverse("core:home")).content.decode()
        menu = re.search(r'<nav class="site-nav".*?</nav>', page, re.S).group(0)
        assert f'href="{start}"' in menu, person.username
