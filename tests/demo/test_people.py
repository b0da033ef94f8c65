"""The people of the demo city, seeded once at full size (see conftest.demo_city): staff in every
district for every role the main services need, the personas with the roles that make them find
work in district 1, e-service offices with operators, and citizens with valid identifiers."""

import random
from collections import Counter, defaultdict

import pyotp
import pytest
from django.utils import timezone

from pishkhan.accounts.models import District, Role, RoleBinding, User, UserKind
from pishkhan.cases.errors import CaseError
from pishkhan.cases.services import case_submit
from pishkhan.catalog.selectors import definitions_published, roles_worked_by_staff, service_get
from pishkhan.core.validators import normalize_mobile, normalize_national_id
from pishkhan.demo.answers import sample_answers
from pishkhan.demo.people import BIG_DISTRICTS, SMALL_DISTRICTS
from pishkhan.demo.seed import (
    DEMO_CITIZEN_MOBILE,
    DEMO_PASSWORD,
    MAIN_SERVICES,
    PERSONAS,
    demo_totp_secret,
    main_service_roles,
)
from pishkhan.offices.models import Office, OfficeStatus

pytestmark = pytest.mark.django_db


def main_definitions():
    return definitions_published(services=MAIN_SERVICES)


def where_held() -> dict[str, set[int | None]]:
    """role code → the district numbers it is held in (None: city-wide), by active staff."""
    held = defaultdict(set)
    for role, number in RoleBinding.objects.filter(
        user__kind=UserKind.STAFF, user__is_active=True
    ).values_list("role__code", "district__number"):
        held[role].add(number)
    return held


def roles_of(username: str, district: int | None = 1) -> set[str]:
    bindings = RoleBinding.objects.filter(user__username=username)
    bindings = bindings.filter(district__number=district) if district else bindings.filter(district=None)
    return set(bindings.values_list("role__code", flat=True))


def test_the_demo_city_has_22_districts_about_300_staff_100_offices_and_3000_citizens(demo_city):
    assert demo_city["districts"] == District.objects.count() == 22
    assert 280 <= demo_city["staff"] == User.objects.filter(kind=UserKind.STAFF).count() <= 360
    assert demo_city["offices"] == Office.objects.count() == 100
    assert 100 <= demo_city["operators"] <= 300
    assert demo_city["citizens"] == User.objects.filter(kind=UserKind.CITIZEN).count() == 3001
    assert demo_city["unplanned_roles"] == []
    assert {d.code for d in main_definitions()} == set(MAIN_SERVICES)


def test_every_staff_role_of_the_main_services_is_held_in_every_district_or_city_wide(demo_city):
    held = where_held()
    every_district = set(range(1, 23))
    for definition in main_definitions():
        for role in roles_worked_by_staff(definition):
            assert None in held[role] or every_district <= held[role], (definition.code, role)


def test_small_districts_have_one_person_per_role_and_big_ones_more(demo_city):
    people = Counter(
        RoleBinding.objects.filter(role__code="revenue_clerk").values_list("district__number", flat=True)
    )
    assert all(people[n] == 1 for n in SMALL_DISTRICTS)
    assert all(people[n] >= 2 for n in BIG_DISTRICTS)
    assert all(1 <= people[n] <= 3 for n in range(1, 23))
    assert roles_of("d05.planning1", 5) == {"planning_expert", "permits_expert", "estate_expert"}
    # In a small district the planning expert also checks the drawings.
    assert {"architecture_expert", "planning_expert"} <= roles_of("d09.planning1", 9)
    assert not User.objects.filter(username="d09.architecture1").exists()


def test_bindings_carry_the_department_the_role_sits_in(demo_city):
    binding = RoleBinding.objects.select_related("department").get(
        user__username="d05.revenue1", role__code="revenue_clerk"
    )
    assert binding.department.code == "finance" and binding.district.number == 5
    owner = RoleBinding.objects.get(user__username="city.owner-finance1", role__code="process_owner")
    assert owner.district is None and owner.department.code == "finance"


def test_the_personas_of_district_1_can_work_every_staff_step_of_the_main_services(demo_city):
    held = where_held()
    personas = roles_of("clerk01") | roles_of("inspector01") | roles_of("signatory01")
    for definition in main_definitions():
        for role in roles_worked_by_staff(definition):
            assert role in personas or None in held[role], (definition.code, role)
    assert {
        "clerk",
        "planning_expert",
        "revenue_clerk",
        "excavation_coordinator",
        "eservice_office",
    } <= roles_of("clerk01")
    assert {"inspector", "surveyor"} <= roles_of("inspector01")
    assert roles_of("manager01") == {"manager"}
    assert roles_of("owner", None) == {"process_owner"} and roles_of("auditor", None) == {"auditor"}


def test_signatory01_signs_every_signing_step_of_the_main_services_in_district_1(demo_city):
    city_wide = {role for role, where in where_held().items() if None in where}
    signing = {
        step.role
        for definition in main_definitions()
        for step in definition.steps
        if step.signs and step.role
    }
    # The architecture expert's signature on the drawings is clerk01's, who holds that expert role.
    assert signing - city_wide - roles_of("signatory01") == {"architecture_expert"}
    assert "architecture_expert" in roles_of("clerk01")


def test_the_roles_of_the_bank_exist_with_their_titles_and_the_applicant_is_none_of_them(demo_city):
    role = Role.objects.get(code="excavation_coordinator")
    assert (role.name_fa, role.name_en) == ("کارشناس هماهنگی حفاری‌ها", "Excavation coordination expert")
    assert not Role.objects.filter(code="applicant").exists()
    assert main_service_roles() <= set(Role.objects.values_list("code", flat=True))


def test_every_staff_and_operator_account_signs_in_with_the_demo_password_and_an_authenticator(demo_city):
    accounts = User.objects.filter(kind__in=[UserKind.STAFF, UserKind.OPERATOR])
    # One hash, made once per run, for every account: checking one checks them all.
    assert accounts.values("password").distinct().count() == 1
    assert accounts.get(username="d05.planning1").check_password(DEMO_PASSWORD)
    assert not accounts.filter(totp_confirmed=False).exists()
    operator = accounts.get(username="office105")
    assert operator.totp_secret == demo_totp_secret("office105")
    assert pyotp.TOTP(operator.totp_secret).verify(pyotp.TOTP(demo_totp_secret("office105")).now())
    for persona in PERSONAS:
        user = accounts.get(username=persona.username)
        assert (user.first_name, user.last_name, user.kind) == (
            persona.first_name,
            persona.last_name,
            persona.kind,
        )
    assert accounts.get(username="d05.planning1").first_name  # a Persian name, not empty


def test_offices_have_licences_addresses_and_one_to_three_operators_the_first_managing(demo_city):
    offices = list(Office.objects.prefetch_related("operators__user").order_by("licence_number"))
    assert [o.licence_number for o in offices] == [f"EO-{n}" for n in range(101, 201)]
    assert {o.district.number for o in offices} == set(range(1, 23))
    assert offices[4].name == "دفتر خدمات الکترونیک شهر ۱۰۵" and offices[4].address
    for office in offices:
        operators = sorted(office.operators.all(), key=lambda op: op.user.username)
        assert 1 <= len(operators) <= 3
        assert [op.is_manager for op in operators] == [True] + [False] * (len(operators) - 1)
        assert operators[0].user.username == f"office{office.licence_number[3:]}"
    first = Office.objects.get(licence_number="EO-101")
    assert first.district.number == 1 and first.operators.get(is_manager=True).user.username == "office101"
    statuses = Counter(o.status for o in offices)
    assert statuses[OfficeStatus.SUSPENDED] == 3
    expired = [o for o in offices if o.licence_expires_on < timezone.localdate()]
    assert len(expired) == 2 and all(o.status == OfficeStatus.ACTIVE for o in expired)


def test_a_suspended_or_expired_office_may_not_file_and_an_active_one_may(demo_city):
    service = service_get("tax-clearance-certificate")
    citizen = User.objects.get(mobile=DEMO_CITIZEN_MOBILE)
    suspended = Office.objects.filter(status=OfficeStatus.SUSPENDED).first()
    expired = Office.objects.filter(status=OfficeStatus.ACTIVE).order_by("licence_expires_on").first()
    for office, code in ((suspended, "office_suspended"), (expired, "office_licence_expired")):
        operator = office.operators.get(is_manager=True).user
        with pytest.raises(CaseError) as refused:
            case_submit(service=service, applicant=citizen, filed_by=operator, answers={}, channel="office")
        assert refused.value.code == code

    active = Office.objects.get(licence_number="EO-105")
    definition = next(d for d in main_definitions() if d.code == service.code)
    answers = sample_answers(definition, rng=random.Random(1), district_code=active.district.code)
    case = case_submit(
        service=service,
        applicant=citizen,
        filed_by=active.operators.get(is_manager=True).user,
        answers=answers,
        channel="office",
        district=active.district,
    )
    assert case.office == active


def test_citizens_have_valid_national_ids_and_mobiles_and_no_password(demo_city):
    citizens = list(
        User.objects.filter(kind=UserKind.CITIZEN).values_list("national_id", "mobile", "password")
    )
    assert len(citizens) == 3001
    for national_id, mobile, password in citizens:
        assert normalize_national_id(national_id) == national_id
        assert normalize_mobile(mobile) == mobile
        assert password.startswith("!")  # unusable: citizens sign in with an SMS code
    assert len({c[0] for c in citizens}) == len({c[1] for c in citizens}) == 3001
    sample = User.objects.filter(kind=UserKind.CITIZEN).exclude(mobile=DEMO_CITIZEN_MOBILE).first()
    assert sample.username == f"citizen-{sample.mobile}" and sample.first_name and sample.last_name
