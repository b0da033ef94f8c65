"""`pishkhan demo` and seed_demo_city: idempotent, audited, and printing a sign-in per persona.
The full-size city is checked once in test_people.py; these tests seed small cities of their own."""

import pytest
from django.core.management import call_command

from pishkhan.accounts.models import District, Role, RoleBinding, User, UserKind
from pishkhan.cases.models import Case, CaseEvent
from pishkhan.core.models import AuditEvent
from pishkhan.demo.seed import DEMO_CITIZEN_MOBILE, DEMO_PASSWORD, PERSONAS, seed_demo_city
from pishkhan.offices.models import Office, OfficeOperator

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _main_bank(settings, main_bank):
    settings.PROCESS_BANK_DIR = main_bank


def small_city(**sizes):
    return seed_demo_city(**{"citizens": 40, "offices": 8, **sizes})


def everything() -> tuple:
    return (
        User.objects.count(),
        Role.objects.count(),
        RoleBinding.objects.count(),
        Office.objects.count(),
        OfficeOperator.objects.count(),
        AuditEvent.objects.count(),
    )


def test_seeding_twice_leaves_one_copy_of_everything_and_what_people_changed():
    first = small_city()
    before = everything()
    assert first["created"]["staff"] > 250 and first["created"]["citizens"] == 40
    User.objects.filter(username="d05.revenue1").update(first_name="نام تازه")

    again = small_city()

    assert everything() == before
    assert not any(again["created"].values())
    distinct = RoleBinding.objects.values("user", "role", "district").distinct().count()
    assert distinct == RoleBinding.objects.count()
    assert User.objects.get(username="d05.revenue1").first_name == "نام تازه"


def test_a_bigger_city_keeps_the_people_it_had_and_adds_the_rest():
    small_city()
    first_citizens = set(User.objects.filter(kind=UserKind.CITIZEN).values_list("mobile", "national_id"))

    bigger = small_city(citizens=60, offices=10)

    assert bigger["created"]["citizens"] == 20 and bigger["created"]["offices"] == 2
    now = set(User.objects.filter(kind=UserKind.CITIZEN).values_list("mobile", "national_id"))
    assert first_citizens < now and len(now) == 61
    assert Office.objects.filter(licence_number="EO-110").exists()


def test_persona_grants_are_audited_one_by_one_and_the_bulk_seeding_in_one_event():
    counts = small_city()
    persona_bindings = RoleBinding.objects.filter(user__username__in=[p.username for p in PERSONAS]).count()
    assert AuditEvent.objects.filter(action="role.granted").count() == persona_bindings
    seeded = AuditEvent.objects.get(action="demo.seeded")
    assert seeded.data["bindings"] == counts["bindings"] - persona_bindings
    assert seeded.data["staff"] == counts["staff"] - sum(p.kind == UserKind.STAFF for p in PERSONAS)
    assert AuditEvent.objects.filter(action="role.created").count() == 1


def test_the_standard_roles_exist_in_every_installation():
    codes = set(Role.objects.values_list("code", flat=True))
    assert {
        "clerk",
        "inspector",
        "signatory",
        "manager",
        "process_owner",
        "auditor",
        "council_observer",
    } <= codes


def test_demo_no_serve_seeds_and_prints_a_signin_for_every_persona(capsys):
    call_command("demo", no_serve=True, cases=0)
    out = capsys.readouterr().out
    assert "22 districts" in out and "100 e-service offices" in out and "3001 citizens" in out
    assert DEMO_CITIZEN_MOBILE in out and DEMO_PASSWORD in out and "pishkhan totp" in out
    for persona in PERSONAS:
        assert persona.username in out and persona.what in out
    assert District.objects.count() == 22
    assert "The city holds 0 cases and 0 events" in out


def test_demo_plays_its_history_once_and_says_how_much_and_where_the_ground_truth_is(
    capsys, settings, tmp_path
):
    settings.DATA_DIR = tmp_path
    # workers=1: the history is played in this process, inside the test's transaction.
    call_command("demo", no_serve=True, cases=300, workers=1)
    out = capsys.readouterr().out

    cases, events = Case.objects.count(), CaseEvent.objects.count()
    assert cases == 300 and events > cases
    assert f"{cases:,} cases, {events:,} events" in out
    assert f"The city holds {cases:,} cases and {events:,} events" in out
    truth = tmp_path / "simulation" / "demo-ground-truth.json"
    assert truth.is_file()
    assert f"Ground truth of the simulated history: {truth}" in out
    for persona in PERSONAS:
        assert persona.username in out and persona.what in out

    call_command("demo", no_serve=True, cases=300, workers=1)
    again = capsys.readouterr().out
    assert (Case.objects.count(), CaseEvent.objects.count()) == (cases, events)
    assert f"The city holds {cases:,} cases and {events:,} events" in again
    assert AuditEvent.objects.filter(action="demo.history").count() == 1


def test_the_demo_refuses_a_number_of_workers_below_one():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--workers"):
        call_command("demo", no_serve=True, cases=0, workers=0)


def test_the_demo_refuses_production_settings(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo", no_serve=True)
