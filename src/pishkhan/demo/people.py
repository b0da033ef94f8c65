"""The people of the demo city: staff bound to the roles of its main services in every district
and city-wide, e-service offices with their operators, and citizens.

Everything here is made with a few bulk queries, so seeding takes seconds, and only what is
missing is made, so running it again changes nothing (an account is found by its username, an
office by its licence number, a binding by person, role and district). The demo password is
hashed once per run and every staff and operator account gets that same encoded hash: PBKDF2 is
slow on purpose, and the salt travels inside the hash string, so one hash is valid for all.

Names, districts and numbers come from random generators seeded with fixed strings (the username,
the licence number), so every run — and every machine — makes the same city.

    MAIN_SERVICES                      the five services the demo staffs everywhere
    DISTRICT_POSTS, CITY_POSTS         who works what: roles per post, people per district size
    staff_plan(...) -> StaffPlan       the staff accounts and bindings those posts give
    staff_seed(...), offices_seed(...), citizens_seed(...)
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password

from pishkhan.accounts.models import Department, District, Role, RoleBinding, User, UserKind
from pishkhan.core.text import to_persian_digits
from pishkhan.core.validators import national_id_check_digit
from pishkhan.offices.models import Office, OfficeOperator, OfficeStatus

from .names import FIRST_NAMES_MEN, FIRST_NAMES_WOMEN, LAST_NAMES, STREETS

# The services the demo staffs fully: every role their staff steps name is held in every district
# (or city-wide), so the simulator can move their cases anywhere. Other services in the bank run
# where their roles happen to be held.
MAIN_SERVICES = (
    "building-permit",
    "completion-certificate",
    "no-violation-certificate",
    "tax-clearance-certificate",
    "excavation-permit",
)

# District sizes, after Tehran's: more people where more people live.
BIG_DISTRICTS = frozenset({2, 4, 5, 15})
SMALL_DISTRICTS = frozenset({9, 10, 12, 13, 17, 19, 20, 21, 22})

OFFICE_COUNT = 100
FIRST_OFFICE_NUMBER = 101  # EO-101, the office of the office101 persona
# A few offices the city stopped or whose licence ran out, so the registry looks like a real one
# and the engine's filing check has something to refuse.
SUSPENDED_OFFICES = frozenset({117, 146, 183})
EXPIRED_OFFICES = frozenset({132, 171})
CITIZEN_COUNT = 3000
MOBILE_PREFIXES = ("0912", "0919", "0935", "0936", "0937", "0938", "0901", "0902", "0990", "0915", "0921")


def demo_totp_secret(username: str) -> str:
    """A stable authenticator secret per demo account, so `pishkhan totp USER` and an app agree."""
    digest = hashlib.sha256(f"pishkhan-demo:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


class DemoPassword:
    """The demo password, hashed the first time an account needs it and then reused: a second run
    that creates no account computes no hash at all."""

    def __init__(self, raw: str):
        self._raw = raw
        self._encoded: str | None = None

    @property
    def encoded(self) -> str:
        if self._encoded is None:
            self._encoded = make_password(self._raw)
        return self._encoded


# --- who works what ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """A job in a district: the roles one person in it holds, and how many people hold it in a
    small, a medium and a big district. In a small district one person wears several hats: a post
    with `small_joins` has nobody of its own there, and the people of that post hold its roles."""

    code: str  # the username part: d05.planning1
    roles: tuple[str, ...]
    department: str | None
    people: tuple[int, int, int]  # small, medium, big district
    small_joins: str = ""


@dataclass(frozen=True)
class CityPost:
    """A job bound city-wide: liaisons of outside bodies, commissions, oversight."""

    code: str  # the username part: city.engineering1
    roles: tuple[str, ...]
    department: str | None
    people: int


DISTRICT_POSTS = (
    Post("planning", ("planning_expert", "permits_expert", "estate_expert"), "urban-planning", (1, 1, 2)),
    Post(
        "architecture",
        ("architecture_expert", "structure_expert", "installations_expert"),
        "urban-planning",
        (0, 1, 2),
        small_joins="planning",
    ),
    Post("inspection", ("inspector", "surveyor", "green_space_expert"), "urban-planning", (1, 1, 2)),
    Post("revenue", ("revenue_clerk",), "finance", (1, 1, 2)),
    # The district's front desk: the secretariat and archive, and the desk that takes in the files
    # the e-service offices send (see the note on eservice_office in seed.py).
    Post("frontdesk", ("secretariat", "archive_clerk", "eservice_office"), "urban-planning", (1, 2, 2)),
    Post("legal", ("legal_expert", "head_legal"), "legal", (1, 1, 1)),
    Post(
        "services",
        ("excavation_coordinator", "utilities_liaison", "restoration_contractor", "traffic_expert"),
        "services",
        (1, 1, 1),
    ),
    Post(
        "head-planning",
        ("head_planning", "inspection_head", "head_architecture", "head_building_control"),
        "urban-planning",
        (1, 1, 1),
    ),
    Post("head-finance", ("head_revenue", "financial_deputy"), "finance", (1, 1, 1)),
    Post("head-services", ("head_urban_services", "services_deputy"), "services", (1, 1, 1)),
    Post(
        "deputy-planning",
        ("planning_manager", "technical_deputy", "technical_committee", "facade_committee"),
        "urban-planning",
        (1, 1, 1),
    ),
    Post("mayor", ("district_mayor", "mayor_office"), None, (1, 1, 1)),
    Post("manager", ("manager",), None, (1, 1, 1)),
)

CITY_POSTS = (
    CityPost("engineering", ("engineering_org", "supervisor_engineer"), "urban-planning", 2),
    CityPost("article100", ("article100_commission",), "urban-planning", 1),
    CityPost("article5", ("article5_commission",), "urban-planning", 1),
    CityPost("article77", ("article77_commission",), "finance", 1),
    CityPost("fire", ("fire_department",), "services", 1),
    CityPost("water", ("water_company",), "services", 1),
    CityPost("power", ("power_company",), "services", 1),
    CityPost("gas", ("gas_company",), "services", 1),
    CityPost("telecom", ("telecom_company",), "services", 1),
    CityPost("registry", ("property_registry",), "legal", 1),
    CityPost("heritage", ("heritage_office",), "urban-planning", 1),
    CityPost("insurance", ("social_security",), "urban-planning", 1),
    CityPost("standards", ("standards_office",), "urban-planning", 1),
    CityPost("auditor", ("auditor",), "inspection", 2),
    CityPost("owner-finance", ("process_owner",), "finance", 1),
    CityPost("owner-services", ("process_owner",), "services", 1),
    CityPost("owner-transport", ("process_owner",), "transport", 1),
    CityPost("observer", ("council_observer",), None, 1),
)


# Where a role sits in the municipality, for the department of its bindings. A role held in
# several departments has no entry: `process_owner` (each department owns its own services)
# takes the department of the post or persona that holds it, so the `owner` persona owns urban
# planning's services — the building permit among them — and not those of the last post listed.
def _role_departments() -> dict[str, str]:
    found: dict[str, set[str]] = defaultdict(set)
    for post in (*DISTRICT_POSTS, *CITY_POSTS):
        for role in post.roles:
            if post.department:
                found[role].add(post.department)
    return {role: departments.pop() for role, departments in found.items() if len(departments) == 1}


ROLE_DEPARTMENTS = _role_departments()


def district_size(number: int) -> int:
    """0 small, 1 medium, 2 big: the index into Post.people."""
    return 0 if number in SMALL_DISTRICTS else 2 if number in BIG_DISTRICTS else 1


@dataclass(frozen=True)
class Binding:
    role: str
    district: int | None  # district number; None is city-wide
    department: str | None


@dataclass
class PlannedAccount:
    username: str
    bindings: list[Binding] = field(default_factory=list)


@dataclass
class StaffPlan:
    accounts: list[PlannedAccount]
    # Roles the main services' staff steps name that no post holds (a role new in the bank): they
    # are bound to each district's planning experts, so no case waits for nobody.
    unplanned: list[str]


def staff_plan(*, districts: Iterable[int], roles_needed: Iterable[str] = ()) -> StaffPlan:
    """The staff accounts the posts give for these district numbers, each with its bindings."""
    planned = {role for post in (*DISTRICT_POSTS, *CITY_POSTS) for role in post.roles}
    unplanned = sorted(set(roles_needed) - planned)
    accounts: list[PlannedAccount] = []
    for number in sorted(districts):
        size = district_size(number)
        people: dict[str, list[PlannedAccount]] = {}
        for post in DISTRICT_POSTS:
            people[post.code] = [
                PlannedAccount(f"d{number:02d}.{post.code}{i}") for i in range(1, post.people[size] + 1)
            ]
        for post in DISTRICT_POSTS:
            holders = people[post.code] or people.get(post.small_joins, [])
            roles = post.roles + (tuple(unplanned) if post is DISTRICT_POSTS[0] else ())
            for account in holders:
                account.bindings += [Binding(role, number, ROLE_DEPARTMENTS.get(role)) for role in roles]
        accounts += [account for post in DISTRICT_POSTS for account in people[post.code]]
    for post in CITY_POSTS:
        for i in range(1, post.people + 1):
            accounts.append(
                PlannedAccount(
                    f"city.{post.code}{i}", [Binding(r, None, post.department) for r in post.roles]
                )
            )
    return StaffPlan(accounts=accounts, unplanned=unplanned)


def person_name(seed: str) -> tuple[str, str]:
    """A first and last name, always the same for the same seed (a username, say)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    first = rng.choice(FIRST_NAMES_WOMEN if rng.random() < 0.5 else FIRST_NAMES_MEN)
    return first, rng.choice(LAST_NAMES)


# --- writing ------------------------------------------------------------------------------------


def accounts_create(*, usernames: Iterable[str], kind: str, password: DemoPassword) -> list[str]:
    """Create the staff or operator accounts among `usernames` that do not exist yet (one query to
    find them, one to insert), each with a Persian name, the demo password and a confirmed
    authenticator; return the usernames created."""
    usernames = list(dict.fromkeys(usernames))
    existing = set(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    new = []
    for username in usernames:
        if username in existing:
            continue
        first, last = person_name(username)
        new.append(
            User(
                username=username,
                kind=kind,
                first_name=first,
                last_name=last,
                password=password.encoded,
                totp_secret=demo_totp_secret(username),
                totp_confirmed=True,
            )
        )
    User.objects.bulk_create(new)
    return [user.username for user in new]


def bindings_create(*, wanted: dict[str, list[Binding]]) -> int:
    """Create the role bindings of `wanted` (username → bindings) that do not exist yet, skipping
    roles, districts and people the database does not have (citizens hold no roles); return how
    many were created. No audit event per binding: the caller writes one that sums the seeding up."""
    roles = dict(Role.objects.values_list("code", "pk"))
    districts = dict(District.objects.values_list("number", "pk"))
    departments = dict(Department.objects.values_list("code", "pk"))
    users = dict(
        User.objects.filter(username__in=list(wanted))
        .exclude(kind=UserKind.CITIZEN)
        .values_list("username", "pk")
    )
    have = set(
        RoleBinding.objects.filter(user_id__in=users.values()).values_list(
            "user_id", "role_id", "district_id"
        )
    )
    new = {}
    for username, bindings in wanted.items():
        for binding in bindings:
            district = districts.get(binding.district) if binding.district is not None else None
            if username not in users or binding.role not in roles or (binding.district and not district):
                continue
            key = (users[username], roles[binding.role], district)
            if key not in have and key not in new:
                new[key] = RoleBinding(
                    user_id=key[0],
                    role_id=key[1],
                    district_id=key[2],
                    department_id=departments.get(binding.department),
                )
    RoleBinding.objects.bulk_create(new.values())
    return len(new)


def staff_seed(*, password: DemoPassword, roles_needed: Iterable[str] = ()) -> dict:
    """Create the staff of every district and the city-wide posts (staff_plan), with their
    bindings; return {"staff": accounts created, "bindings": bindings created, "unplanned": roles
    no post holds}."""
    plan = staff_plan(districts=District.objects.values_list("number", flat=True), roles_needed=roles_needed)
    created = accounts_create(
        usernames=[a.username for a in plan.accounts], kind=UserKind.STAFF, password=password
    )
    bindings = bindings_create(wanted={a.username: a.bindings for a in plan.accounts})
    return {"staff": len(created), "bindings": bindings, "unplanned": plan.unplanned}


# --- e-service offices ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedOffice:
    number: int  # EO-<number>
    district: int
    name: str
    address: str
    status: str
    expires_on: dt.date
    operators: tuple[str, ...]  # usernames; the first one manages the office
    phone: str = ""
    hours: str = ""

    @property
    def licence_number(self) -> str:
        return f"EO-{self.number}"


# What offices write on their door (most keep the city's office hours, some stay open later).
OFFICE_HOURS = (
    "شنبه تا چهارشنبه ۸ تا ۱۶، پنجشنبه ۸ تا ۱۲",
    "شنبه تا چهارشنبه ۷:۳۰ تا ۱۵:۳۰، پنجشنبه ۸ تا ۱۳",
    "شنبه تا پنجشنبه ۸ تا ۲۰",
)


def office_plan(*, count: int, districts: Iterable[int], today: dt.date) -> list[PlannedOffice]:
    """`count` offices from EO-101 on, spread over the districts (the big ones get more): every
    office in the same place on every run, except that licence dates count from `today`."""
    numbers = sorted(districts)
    # One round of every district, then the big ones again: EO-101 lands in district 1.
    cycle = numbers + [n for n in numbers if n in BIG_DISTRICTS]
    offices = []
    for index in range(count):
        number = FIRST_OFFICE_NUMBER + index
        rng = random.Random(f"pishkhan-demo-office:{number}")  # noqa: S311 - demo data
        if number in EXPIRED_OFFICES:
            expires_on = today - dt.timedelta(days=rng.randint(10, 120))
        else:
            expires_on = today + dt.timedelta(days=rng.randint(60, 1400))
        street, plate = rng.choice(STREETS), rng.randint(2, 480)
        operators = rng.choices((1, 2, 3), weights=(30, 45, 25))[0]
        if number == FIRST_OFFICE_NUMBER:
            # The persona's office, as the foundation's demo made it.
            expires_on, street, plate = dt.date(2028, 3, 20), "خیابان انقلاب", 12
        # Drawn after the rest, so every office keeps the address and dates it had before.
        phone = f"021-{rng.randint(2200_0000, 8899_9999)}"
        hours = rng.choice(OFFICE_HOURS)
        offices.append(
            PlannedOffice(
                number=number,
                district=cycle[index % len(cycle)] if cycle else 1,
                name=f"دفتر خدمات الکترونیک شهر {to_persian_digits(number)}",
                address=f"{street}، پلاک {to_persian_digits(plate)}",
                status=OfficeStatus.SUSPENDED if number in SUSPENDED_OFFICES else OfficeStatus.ACTIVE,
                expires_on=expires_on,
                operators=tuple(
                    f"office{number}" + (f"-{i}" if i > 1 else "") for i in range(1, operators + 1)
                ),
                phone=phone,
                hours=hours,
            )
        )
    return offices


def offices_seed(*, count: int, password: DemoPassword, today: dt.date) -> dict:
    """Create the offices of office_plan that are missing, their operator accounts and the links
    between them; return {"offices": created, "operators": accounts created}."""
    plan = office_plan(count=count, districts=District.objects.values_list("number", flat=True), today=today)
    districts = dict(District.objects.values_list("number", "pk"))
    existing = set(
        Office.objects.filter(licence_number__in=[o.licence_number for o in plan]).values_list(
            "licence_number", flat=True
        )
    )
    new_offices = [
        Office(
            licence_number=o.licence_number,
            licence_expires_on=o.expires_on,
            name=o.name,
            district_id=districts[o.district],
            address=o.address,
            phone=o.phone,
            hours=o.hours,
            status=o.status,
        )
        for o in plan
        if o.licence_number not in existing and o.district in districts
    ]
    Office.objects.bulk_create(new_offices)
    created = accounts_create(
        usernames=[username for o in plan for username in o.operators],
        kind=UserKind.OPERATOR,
        password=password,
    )
    offices = dict(
        Office.objects.filter(licence_number__in=[o.licence_number for o in plan]).values_list(
            "licence_number", "pk"
        )
    )
    users = dict(
        User.objects.filter(
            username__in=[u for o in plan for u in o.operators], kind=UserKind.OPERATOR
        ).values_list("username", "pk")
    )
    linked = set(OfficeOperator.objects.filter(user_id__in=users.values()).values_list("user_id", flat=True))
    OfficeOperator.objects.bulk_create(
        [
            OfficeOperator(office_id=offices[o.licence_number], user_id=users[username], is_manager=i == 0)
            for o in plan
            if o.licence_number in offices
            for i, username in enumerate(o.operators)
            if username in users and users[username] not in linked
        ]
    )
    return {"offices": len(new_offices), "operators": len(created)}


# --- citizens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedCitizen:
    mobile: str
    national_id: str
    first_name: str
    last_name: str

    @property
    def username(self) -> str:
        return f"citizen-{self.mobile}"  # as accounts.services names a citizen who signs up


def sample_national_id(rng: random.Random) -> str:
    """A national ID that passes the checksum and is not ten equal digits."""
    while True:
        first_nine = f"{rng.randrange(1, 10**9):09d}"
        number = first_nine + national_id_check_digit(first_nine)
        if len(set(number)) > 1:
            return number


def citizen_plan(*, count: int, reserved: Iterable[str] = ()) -> list[PlannedCitizen]:
    """`count` citizens with unique mobiles and national IDs, none in `reserved`; the first n are
    the same whatever the count."""
    rng = random.Random("pishkhan-demo-citizens")  # noqa: S311 - demo data, not secrets
    taken = set(reserved)
    citizens = []
    while len(citizens) < count:
        mobile = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        national_id = sample_national_id(rng)
        first = rng.choice(FIRST_NAMES_WOMEN if rng.random() < 0.5 else FIRST_NAMES_MEN)
        last = rng.choice(LAST_NAMES)
        if mobile in taken or national_id in taken:
            continue
        taken |= {mobile, national_id}
        citizens.append(PlannedCitizen(mobile, national_id, first, last))
    return citizens


def citizens_seed(*, count: int, reserved: Iterable[str] = ()) -> int:
    """Create the citizens of citizen_plan that are missing: no password (citizens sign in with an
    SMS code; an unusable one like Django's, made without its slower generator), a mobile and a
    national ID each. One whose mobile or national ID another account
    already has is left out. Returns how many were inserted."""
    plan = citizen_plan(count=count, reserved=reserved)
    existing = set(
        User.objects.filter(username__in=[c.username for c in plan]).values_list("username", flat=True)
    )
    new = [
        User(
            username=c.username,
            kind=UserKind.CITIZEN,
            mobile=c.mobile,
            national_id=c.national_id,
            first_name=c.first_name,
            last_name=c.last_name,
            password=UNUSABLE_PASSWORD_PREFIX + secrets.token_hex(20),
        )
        for c in plan
        if c.username not in existing
    ]
    before = User.objects.filter(kind=UserKind.CITIZEN).count() if new else 0
    User.objects.bulk_create(new, ignore_conflicts=True)
    return User.objects.filter(kind=UserKind.CITIZEN).count() - before if new else 0
