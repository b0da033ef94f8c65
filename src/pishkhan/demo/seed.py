"""Seed the demo municipality. Idempotent: running it twice leaves one copy of everything.

This is the minimal demo city of the foundation: districts, departments, roles, one person per
persona and one e-service office. The simulator fills it with a year of history later."""

import base64
import hashlib
from dataclasses import dataclass
from datetime import date

from django.db import transaction

from pishkhan.accounts.models import Department, District, Role, RoleBinding, User, UserKind
from pishkhan.accounts.services import role_grant
from pishkhan.core.text import to_persian_digits
from pishkhan.offices.models import Office, OfficeOperator, OfficeStatus

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
]


@dataclass(frozen=True)
class Persona:
    username: str
    first_name: str
    last_name: str
    role: str | None  # role code, None for office operators
    district: int | None  # district number; None is city-wide
    department: str | None
    what: str  # what the persona does, printed with the sign-ins


PERSONAS = [
    Persona("clerk01", "مریم", "رضایی", "clerk", 1, "urban-planning", "clerk in district 1"),
    Persona("inspector01", "علی", "کریمی", "inspector", 1, "urban-planning", "inspector in district 1"),
    Persona("signatory01", "حسین", "موسوی", "signatory", 1, "urban-planning", "signatory in district 1"),
    Persona("manager01", "زهرا", "حسینی", "manager", 1, "urban-planning", "manager of district 1"),
    Persona("owner", "نرگس", "جعفری", "process_owner", None, "urban-planning", "process owner"),
    Persona("auditor", "رضا", "نوری", "auditor", None, "inspection", "auditor"),
    Persona("observer", "فاطمه", "صادقی", "council_observer", None, None, "council observer"),
    Persona("admin", "امیر", "محمدی", "administrator", None, "ict", "administrator"),
    Persona("office101", "سعید", "اکبری", None, None, None, "e-service office operator"),
]


def demo_totp_secret(username: str) -> str:
    """A stable authenticator secret per demo account, so `pishkhan totp USER` and an app agree."""
    digest = hashlib.sha256(f"pishkhan-demo:{username}".encode()).digest()
    return base64.b32encode(digest[:20]).decode()


def seed_districts():
    for number in range(1, DISTRICT_COUNT + 1):
        District.objects.update_or_create(
            number=number,
            defaults={
                "code": f"d{number:02d}",
                "name_fa": f"منطقه {to_persian_digits(number)}",
                "name_en": f"District {number}",
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


def seed_staff_account(persona: Persona, *, kind: str) -> User:
    user, created = User.objects.get_or_create(
        username=persona.username,
        defaults={"kind": kind, "first_name": persona.first_name, "last_name": persona.last_name},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
    user.totp_secret = demo_totp_secret(persona.username)
    user.totp_confirmed = True
    user.is_staff = persona.role == "administrator"
    user.is_superuser = persona.role == "administrator"
    user.save()
    return user


def seed_office():
    return Office.objects.update_or_create(
        licence_number="EO-101",
        defaults={
            "name": "دفتر خدمات الکترونیک شهر ۱۰۱",
            "licence_expires_on": date(2028, 3, 20),
            "district": District.objects.get(number=1),
            "address": "خیابان انقلاب، پلاک ۱۲",
            "status": OfficeStatus.ACTIVE,
        },
    )[0]


@transaction.atomic
def seed_demo_city() -> dict:
    """Create or refresh the demo city; return counts for the summary line."""
    seed_districts()
    seed_departments()
    seed_citizen()
    office = seed_office()
    admin = None
    for persona in sorted(PERSONAS, key=lambda p: p.role != "administrator"):
        kind = UserKind.OPERATOR if persona.role is None else UserKind.STAFF
        user = seed_staff_account(persona, kind=kind)
        if persona.role is None:
            OfficeOperator.objects.update_or_create(
                user=user, defaults={"office": office, "is_manager": True}
            )
            continue
        admin = admin or user
        district = District.objects.get(number=persona.district) if persona.district else None
        if not RoleBinding.objects.filter(user=user, role__code=persona.role, district=district).exists():
            role_grant(
                user=user,
                role=Role.objects.get(code=persona.role),
                district=district,
                department=Department.objects.filter(code=persona.department).first(),
                by=admin,
            )
    return {
        "districts": District.objects.count(),
        "departments": Department.objects.count(),
        "staff": User.objects.filter(kind=UserKind.STAFF).count(),
        "offices": Office.objects.count(),
    }
