"""Seed the demo municipality. Idempotent: running it twice leaves one copy of everything, and the
second run is quick because it only looks for what is missing.

The demo city: 22 districts, departments, the shipped process bank with a role for every staff
role its definitions declare, about 330 staff bound to those roles in every district and
city-wide (demo.people), 100 e-service offices with about 180 operators, 3,000 citizens, and one
account per persona for people trying the site. The simulator fills it with a year of history:
it reads who holds which role where from RoleBinding, and picks citizens and offices from the
database.

    seed_demo_city(*, citizens=3000, offices=100, bank=True) -> dict
    signin_lines(base_url) -> list[str]     what `pishkhan demo` prints
    MAIN_SERVICES                           the five services staffed in every district
"""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from pishkhan.accounts.models import Department, District, Role, RoleBinding, User, UserKind
from pishkhan.accounts.services import role_grant
from pishkhan.catalog.bank import bank_load
from pishkhan.catalog.selectors import definitions_published, roles_worked_by_staff
from pishkhan.catalog.services import roles_ensure_from_definitions
from pishkhan.core.audit import audit_record
from pishkhan.core.text import to_persian_digits
from pishkhan.offices.models import Office

from .people import (
    CITIZEN_COUNT,
    MAIN_SERVICES,
    OFFICE_COUNT,
    ROLE_DEPARTMENTS,
    DemoPassword,
    citizen_plan,
    citizens_seed,
    demo_totp_secret,
    offices_seed,
    staff_seed,
)

__all__ = [
    "DEMO_CITIZEN_MOBILE",
    "DEMO_CITIZEN_NATIONAL_ID",
    "DEMO_PASSWORD",
    "MAIN_SERVICES",
    "PERSONAS",
    "demo_totp_secret",
    "main_service_roles",
    "seed_demo_city",
    "signin_lines",
]

DISTRICT_COUNT = 22
# Demo accounts only: `pishkhan demo` refuses to run under production settings.
DEMO_PASSWORD = "pishkhan-demo"  # noqa: S105
DEMO_CITIZEN_MOBILE = "09121234567"
DEMO_CITIZEN_NATIONAL_ID = "0012345679"

DEPARTMENTS = [
    ("urban-planning", "معاونت شهرسازی و معماری", "Urban Planning and Architecture"),
    ("finance", "معاونت مالی و اقتصادی", "Finance and Economy"),
    ("services", "معاونت خدمات شهری", "Urban Services"),
    ("transport", "معاونت حمل‌ونقل و ترافیک", "Transport and Traffic"),
    ("social", "معاونت اجتماعی و فرهنگی", "Social and Cultural Affairs"),
    ("ict", "سازمان فناوری اطلاعات و ارتباطات", "ICT Organisation"),
    ("inspection", "اداره کل بازرسی و رسیدگی به شکایات", "Inspection and Complaints"),
    ("legal", "اداره کل حقوقی", "Legal Affairs"),
]

# Who works the `eservice_office` steps. The bank gives some steps to the office that filed the
# case ("print the forms and collect the owners' signatures", "hand the permit to the owner").
# The engine queues a `review` step for whoever holds its role in the case's district or
# city-wide (cases.services._bound, cases.selectors.queue_for), and queues are worked at the desk,
# which is for staff only. So the demo binds `eservice_office` to each district's front desk (and
# to clerk01): the municipal desk that takes in the offices' files. Operators get no binding: it
# would let an office act on every case of its district, not only on the cases it filed.
# `applicant` needs nobody: `citizen` and `payment` steps wait for the applicant or the filing
# office whatever role they name.

# clerk01 does the desk work of the main services in district 1, so one account walks a case.
CLERK_ROLES = (
    "clerk",
    "eservice_office",
    "secretariat",
    "archive_clerk",
    "planning_expert",
    "permits_expert",
    "estate_expert",
    "architecture_expert",
    "structure_expert",
    "installations_expert",
    "legal_expert",
    "revenue_clerk",
    "excavation_coordinator",
    "utilities_liaison",
    "traffic_expert",
    "restoration_contractor",
)
INSPECTOR_ROLES = ("inspector", "surveyor", "green_space_expert")
# signatory01 signs in district 1: the roles of the main services' signing steps (kind
# `signature`, or `signature: true`) that a district binds, except the architecture expert's
# signature on the drawings, which is clerk01's (the supervising engineer's is city-wide, the
# engineering body's). The district's committees and the mayor's office go with the seniors.
SIGNATORY_ROLES = (
    "signatory",
    "head_planning",
    "planning_manager",
    "technical_deputy",
    "inspection_head",
    "head_architecture",
    "head_building_control",
    "head_legal",
    "head_revenue",
    "financial_deputy",
    "head_urban_services",
    "services_deputy",
    "district_mayor",
    "mayor_office",
    "technical_committee",
    "facade_committee",
)


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    roles: tuple[str, ...]  # role codes; empty for office operators
    district: int | None  # where the roles are held; None is city-wide
    department: str | None  # for roles that sit in no department of their own
    what: str  # what the persona does, printed with the sign-ins
    kind: str = UserKind.STAFF


# In the order `pishkhan demo` prints them.
PERSONAS = [
    Persona(
        "clerk01",
        "مریم",
        "رضایی",
        CLERK_ROLES,
        1,
        "urban-planning",
        "clerk in district 1: files, reviews and duties of the main services",
    ),
    Persona("manager01", "زهرا", "حسینی", ("manager",), 1, None, "manager of district 1"),
    Persona(
        "manager00",
        "کاوه",
        "موسوی",
        ("manager",),
        None,
        None,
        "city-wide manager: every district, office closures",
    ),
    Persona(
        "office101",
        "سعید",
        "اکبری",
        (),
        None,
        None,
        "e-service office operator, manager of office EO-101",
        kind=UserKind.OPERATOR,
    ),
    Persona(
        "owner", "نرگس", "جعفری", ("process_owner",), None, "urban-planning", "process owner (urban planning)"
    ),
    Persona("auditor", "رضا", "نوری", ("auditor",), None, "inspection", "auditor, city-wide"),
    Persona(
        "inspector01",
        "علی",
        "کریمی",
        INSPECTOR_ROLES,
        1,
        "urban-planning",
        "inspector and surveyor in district 1",
    ),
    Persona(
        "signatory01",
        "حسین",
        "موسوی",
        SIGNATORY_ROLES,
        1,
        "urban-planning",
        "signs permits and certificates in district 1",
    ),
    Persona("observer", "فاطمه", "صادقی", ("council_observer",), None, None, "council observer"),
    Persona("admin", "امیر", "محمدی", ("administrator",), None, "ict", "administrator"),
]


def seed_districts():
    """The 22 districts with their (made-up, Tehran-like) boundaries, so a map point finds its
    district and the staff map draws them."""
    from pishkhan.demo.geography import district_boundaries  # local: this function alone uses it

    boundaries = district_boundaries()
    for number in range(1, DISTRICT_COUNT + 1):
        District.objects.update_or_create(
            number=number,
            defaults={
                "code": f"d{number:02d}",
                "name_fa": f"منطقه {to_persian_digits(number)}",
                "name_en": f"District {number}",
                "boundary": boundaries[number],
            },
        )


def seed_departments():
    for code, name_fa, name_en in DEPARTMENTS:
        Department.objects.update_or_create(code=code, defaults={"name_fa": name_fa, "name_en": name_en})


def seed_citizen():
    citizen, _ = User.objects.update_or_create(
        mobile=DEMO_CITIZEN_MOBILE,
        defaults={
            "username": f"citizen-{DEMO_CITIZEN_MOBILE}",
            "kind": UserKind.CITIZEN,
            "national_id": DEMO_CITIZEN_NATIONAL_ID,
            "first_name": "سارا",
            "last_name": "احمدی",
        },
    )
    if citizen.has_usable_password():
        citizen.set_unusable_password()
        citizen.save(update_fields=["password"])
    return citizen


def seed_personas(*, password: DemoPassword) -> dict[str, User]:
    """Create the persona accounts that are missing (demo password, confirmed authenticator) and
    grant the persona roles they do not hold yet, one audited role_grant each, by the
    administrator persona. Roles the city does not have (a bank not loaded) are skipped. Returns
    the accounts by username."""
    users = {user.username: user for user in User.objects.filter(username__in=[p.username for p in PERSONAS])}
    for persona in PERSONAS:
        user = users.get(persona.username)
        if user is None:
            user = users[persona.username] = User.objects.create(
                username=persona.username,
                kind=persona.kind,
                first_name=persona.first_name,
                last_name=persona.last_name,
                password=password.encoded,
            )
        wanted = {
            "totp_secret": demo_totp_secret(persona.username),
            "totp_confirmed": True,
            "is_staff": "administrator" in persona.roles,
            "is_superuser": "administrator" in persona.roles,
        }
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        if changed:
            for name in changed:
                setattr(user, name, wanted[name])
            user.save(update_fields=changed)

    admin = users["admin"]
    roles = {role.code: role for role in Role.objects.all()}
    districts = {district.number: district for district in District.objects.all()}
    departments = {department.code: department for department in Department.objects.all()}
    held = set(
        RoleBinding.objects.filter(user__in=users.values()).values_list(
            "user_id", "role__code", "district__number"
        )
    )
    for persona in PERSONAS:
        user = users[persona.username]
        for code in persona.roles:
            if code not in roles or (user.pk, code, persona.district) in held:
                continue
            role_grant(
                user=user,
                role=roles[code],
                district=districts.get(persona.district) if persona.district else None,
                department=departments.get(ROLE_DEPARTMENTS.get(code) or persona.department or ""),
                by=admin,
            )
    return users


def main_service_roles() -> set[str]:
    """The roles the staff steps of the main services name, in their published versions: the
    roles held in every district (or city-wide) of the demo city."""
    roles: set[str] = set()
    for definition in definitions_published(services=MAIN_SERVICES):
        roles |= roles_worked_by_staff(definition)
    return roles


@transaction.atomic
def seed_demo_city(
    *,
    citizens: int = CITIZEN_COUNT,
    offices: int = OFFICE_COUNT,
    bank: bool = True,
    today: dt.date | None = None,
) -> dict:
    """Create or complete the demo city and return its counts, for the summary line.

    In order: districts and departments, the process bank (bank_load, unless `bank` is False)
    and a role for every staff role its published definitions declare, the demo citizen, the
    personas (each grant audited), the staff of every district and city-wide, `offices` e-service
    offices with their operators, `citizens` citizens. Licence dates count from `today` (default:
    the local date). What is already there is left as it is. When the bulk seeding creates
    anything, one `demo.seeded` event in the audit log says how much.

    Returns {"districts", "departments", "roles", "staff", "bindings", "offices", "operators",
    "citizens", "bank": the BankLoadReport or None, "created": what this run made,
    "unplanned_roles": roles of the main services no post holds (bound to planning experts)}."""
    today = today or timezone.localdate()
    seed_districts()
    seed_departments()
    report = bank_load() if bank else None
    roles = roles_ensure_from_definitions()
    password = DemoPassword(DEMO_PASSWORD)
    seed_citizen()
    seed_personas(password=password)
    staff = staff_seed(password=password, roles_needed=main_service_roles())
    office_counts = offices_seed(count=offices, password=password, today=today)
    created = {
        "roles": len(roles),
        "staff": staff["staff"],
        "bindings": staff["bindings"],
        "offices": office_counts["offices"],
        "operators": office_counts["operators"],
        "citizens": citizens_seed(count=citizens, reserved=(DEMO_CITIZEN_MOBILE, DEMO_CITIZEN_NATIONAL_ID)),
    }
    if any(created.values()):
        audit_record(action="demo.seeded", actor_label="pishkhan demo", subject="demo", data=created)
    return {
        "districts": District.objects.count(),
        "departments": Department.objects.count(),
        "roles": Role.objects.count(),
        "staff": User.objects.filter(kind=UserKind.STAFF).count(),
        "bindings": RoleBinding.objects.count(),
        "offices": Office.objects.count(),
        "operators": User.objects.filter(kind=UserKind.OPERATOR).count(),
        "citizens": User.objects.filter(kind=UserKind.CITIZEN).count(),
        "bank": report,
        "created": created,
        "unplanned_roles": staff["unplanned"],
    }


def signin_lines(base_url: str) -> list[str]:
    """The sign-ins `pishkhan demo` prints: the citizen, then every persona."""
    lines = [
        f"Citizen (SMS code; the code is printed on this console): {base_url}/accounts/signin/",
        f"  mobile {DEMO_CITIZEN_MOBILE}; any demo citizen's mobile works too, e.g. {citizen_plan(count=1)[0].mobile}",
        f"Staff and office operators: {base_url}/accounts/staff/signin/  password: {DEMO_PASSWORD}",
        "  then the authenticator code: `pishkhan totp USERNAME` prints it",
    ]
    lines += [f"  {persona.username:<12} {persona.what}" for persona in PERSONAS]
    lines.append(
        "  and every other demo account with the same password: d05.planning1, d05.manager1, "
        "city.auditor1, office105 …"
    )
    return lines
