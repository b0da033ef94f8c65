import pyotp
import pytest
from django.core.management import call_command

from pishkhan.accounts.models import District, Role, RoleBinding, User, UserKind
from pishkhan.core.models import AuditEvent
from pishkhan.demo.seed import DEMO_CITIZEN_MOBILE, DEMO_PASSWORD, PERSONAS, demo_totp_secret, seed_demo_city

pytestmark = pytest.mark.django_db


def test_the_demo_city_has_22_districts_every_persona_and_an_office():
    counts = seed_demo_city()
    assert counts["districts"] == 22
    assert District.objects.get(number=7).name_fa == "منطقه ۷"
    for persona in PERSONAS:
        user = User.objects.get(username=persona.username)
        assert user.check_password(DEMO_PASSWORD)
        assert user.totp_confirmed
    clerk = User.objects.get(username="clerk01")
    assert RoleBinding.objects.filter(user=clerk, role__code="clerk", district__number=1).exists()
    operator = User.objects.get(username="office101")
    assert operator.kind == UserKind.OPERATOR and operator.office_operator.office.status == "active"
    citizen = User.objects.get(mobile=DEMO_CITIZEN_MOBILE)
    assert citizen.kind == UserKind.CITIZEN and not citizen.has_usable_password()


def test_seeding_twice_leaves_one_copy_of_everything():
    seed_demo_city()
    before = (User.objects.count(), RoleBinding.objects.count(), AuditEvent.objects.count())
    seed_demo_city()
    assert (User.objects.count(), RoleBinding.objects.count(), AuditEvent.objects.count()) == before


def test_role_grants_of_the_demo_are_in_the_audit_log():
    seed_demo_city()
    assert AuditEvent.objects.filter(action="role.granted").count() == RoleBinding.objects.count()


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


def test_demo_no_serve_seeds_and_prints_the_signins(capsys):
    call_command("demo", no_serve=True)
    out = capsys.readouterr().out
    assert "22 districts" in out
    assert DEMO_CITIZEN_MOBILE in out and "clerk01" in out and "pishkhan totp" in out


def test_the_demo_authenticator_secret_gives_codes_the_server_accepts():
    seed_demo_city()
    clerk = User.objects.get(username="clerk01")
    assert clerk.totp_secret == demo_totp_secret("clerk01")
    assert pyotp.TOTP(clerk.totp_secret).verify(pyotp.TOTP(demo_totp_secret("clerk01")).now())


def test_the_demo_refuses_production_settings(settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        call_command("demo", no_serve=True)
