"""Small factories for the process-bank tests: people with roles, districts, and the sign-permit
definitions under tests/catalog/data/bank (a small as-is process and its redesign), so the tests do
not depend on the real bank in processes/, which changes as the city's processes are written."""

from pathlib import Path

from pishkhan.accounts.models import Department, District, Role, RoleBinding, User, UserKind
from pishkhan.catalog.services import version_import

DATA = Path(__file__).resolve().parent / "data"
BANK = DATA / "bank"
SIGN_PERMIT_V1 = BANK / "sign-permit.yaml"
SIGN_PERMIT_V2 = BANK / "sign-permit.v2.yaml"
# Roles the sign-permit steps name.
SIGN_PERMIT_ROLES = ("clerk", "inspector", "manager", "signatory")


def make_district(code="d07", number=7) -> District:
    return District.objects.get_or_create(
        code=code, defaults={"number": number, "name_fa": f"منطقه {number}", "name_en": f"District {number}"}
    )[0]


def make_department(code="urban-planning") -> Department:
    return Department.objects.get_or_create(
        code=code, defaults={"name_fa": "شهرسازی", "name_en": "Urban planning"}
    )[0]


def make_staff(username, *roles, district=None, department=None) -> User:
    """A staff member bound to `roles` (codes) in `district` (None: city-wide)."""
    user = User.objects.create(username=username, kind=UserKind.STAFF)
    for code in roles:
        RoleBinding.objects.create(
            user=user, role=Role.objects.get(code=code), district=district, department=department
        )
    return user


def make_owner(username="owner", **kwargs) -> User:
    return make_staff(username, "process_owner", **kwargs)


def bind_sign_permit_roles(district=None) -> User:
    """Someone holds every role the sign-permit steps name, so it can be published."""
    return make_staff("sign-permit-staff", *SIGN_PERMIT_ROLES, district=district or make_district())


def import_file(path: Path, *, by=None):
    return version_import(source=path.read_text(encoding="utf-8"), filename=path.name, by=by)
