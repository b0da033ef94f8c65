"""Small factories for the portal and desk tests: people with roles, and the kiosk permit (a
small process with a parallel review, a discretionary step and a golden signature) imported and
published through catalog.services, as a process owner would."""

from pathlib import Path

from pishkhan.accounts.models import Department, District, Role, RoleBinding, User, UserKind
from pishkhan.catalog.services import version_import, version_publish

DATA = Path(__file__).resolve().parent / "data"
KIOSK = DATA / "kiosk-permit.yaml"
KIOSK_V2 = DATA / "kiosk-permit.v2.yaml"  # the redesign: no discretionary steps, no golden signature
KIOSK_ROLES = ("clerk", "inspector", "manager", "signatory")
REAL_BANK = Path(__file__).resolve().parents[2] / "processes"


def kiosk_source(**replacements) -> str:
    """The kiosk permit's YAML, with `old=new` text replacements (keys are the old text)."""
    text = KIOSK.read_text(encoding="utf-8")
    for old, new in replacements.items():
        text = text.replace(old, new)
    return text


def make_district(code="d01", number=1) -> District:
    return District.objects.get_or_create(
        code=code, defaults={"number": number, "name_fa": f"منطقه {number}", "name_en": f"District {number}"}
    )[0]


def make_department(code="urban-services") -> Department:
    return Department.objects.get_or_create(
        code=code, defaults={"name_fa": "خدمات شهری", "name_en": "Urban services"}
    )[0]


def make_staff(username, *roles, district=None, department=None, kind=UserKind.STAFF) -> User:
    user = User.objects.create(username=username, kind=kind, first_name=username.title())
    for code in roles:
        RoleBinding.objects.create(
            user=user, role=Role.objects.get(code=code), district=district, department=department
        )
    return user


def make_citizen(mobile="09121234567") -> User:
    return User.objects.create(username=f"citizen-{mobile}", kind=UserKind.CITIZEN, mobile=mobile)


def make_owner(username="owner", **kwargs) -> User:
    return make_staff(username, "process_owner", **kwargs)


def make_clerk(username="clerk01") -> User:
    return make_staff(username, "clerk", district=make_district())


def bind_kiosk_roles() -> User:
    """Someone holds every role the kiosk steps name, so the kiosk permit can be published."""
    return make_staff("kiosk-staff", *KIOSK_ROLES, district=make_district())


def publish_kiosk(owner=None, source=None):
    """Import the kiosk permit and publish it; returns the published version."""
    if not RoleBinding.objects.filter(user__username="kiosk-staff").exists():
        bind_kiosk_roles()
    owner = owner or User.objects.filter(username="owner").first() or make_owner()
    version = version_import(source=source or kiosk_source(), filename="kiosk-permit.yaml", by=owner)
    return version_publish(version=version, by=owner).version


def import_kiosk_draft(owner, source=None):
    return version_import(source=source or kiosk_source(), filename="kiosk-permit.yaml", by=owner)
