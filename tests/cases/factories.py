"""Factories for the case-engine tests, shared with every test that needs cases (documents,
issuing, outbox, API, desk, portal): districts, people with roles, e-service offices, a small
process published through the catalog services as a process owner would, and `submit_case`.

Every factory makes valid, unique data on each call (usernames, mobiles, national IDs), so tests
can call them freely without thinking about collisions.

    district = make_district()
    clerk = make_staff(role="clerk", district=district)
    service = publish_definition(small_process())
    case = submit_case(service=service, district=district)
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from copy import deepcopy

from django.utils import timezone

from pishkhan.accounts.models import District, Role, RoleBinding, User, UserKind
from pishkhan.accounts.roles import STANDARD_ROLES
from pishkhan.catalog.models import Service
from pishkhan.catalog.services import CatalogError, version_import, version_publish
from pishkhan.core.validators import national_id_check_digit
from pishkhan.offices.models import Office, OfficeOperator, OfficeStatus

_numbers = itertools.count(1)

# A fixed moment for tests that pass `now=`: Saturday 3 May 2025 (1404/02/13), 10:00 in Tehran, a
# working day with no holiday within two weeks either side.
T0 = dt.datetime(2025, 5, 3, 6, 30, tzinfo=dt.UTC)

# Answers that satisfy small_process()'s form.
SMALL_ANSWERS = {"area_m2": 12, "night_work": False}
# The fee of small_process() for SMALL_ANSWERS: 500,000 filing + 12 × 100,000.
SMALL_FEE = 1_700_000


def _next() -> int:
    return next(_numbers)


def make_district(code: str | None = None, number: int | None = None) -> District:
    """A district; the same code gives back the same district."""
    if number is None:
        number = int(code[1:]) if code and code[1:].isdigit() else 100 + _next()
    code = code or f"d{number:02d}"
    return District.objects.get_or_create(
        code=code,
        defaults={"number": number, "name_fa": f"منطقه {number}", "name_en": f"District {number}"},
    )[0]


def national_id_new() -> str:
    """A fresh, checksum-valid national ID (never ten equal digits)."""
    first_nine = f"{100000000 + _next() * 7919:09d}"[-9:]
    return first_nine + national_id_check_digit(first_nine)


def mobile_new() -> str:
    return f"0912{1000000 + _next():07d}"


def make_citizen(*, mobile: str | None = None, national_id: str | None = None, **extra) -> User:
    """A citizen account with a valid mobile and national ID."""
    mobile = mobile or mobile_new()
    user = User(
        username=f"citizen-{mobile}",
        kind=UserKind.CITIZEN,
        mobile=mobile,
        national_id=national_id or national_id_new(),
        first_name=extra.pop("first_name", "Sara"),
        last_name=extra.pop("last_name", f"Citizen{_next()}"),
        **extra,
    )
    user.set_unusable_password()
    user.save()
    return user


def role_get(code: str) -> Role:
    """The role with this code. The standard roles come from a data migration, which the flush
    after a transactional test empties; they are made again from accounts.roles when missing."""
    names = {role: (name_fa, name_en) for role, name_fa, name_en, _what in STANDARD_ROLES}
    name_fa, name_en = names.get(code, (code, code))
    return Role.objects.get_or_create(code=code, defaults={"name_fa": name_fa, "name_en": name_en})[0]


def bind_role(user: User, role: str, district: District | None = None) -> RoleBinding:
    """Bind `user` to role code `role` in `district` (None: city-wide)."""
    return RoleBinding.objects.get_or_create(user=user, role=role_get(role), district=district)[0]


def make_staff(
    username: str | None = None,
    *,
    role: str | list[str] | tuple[str, ...] | None = None,
    district: District | None = None,
    **extra,
) -> User:
    """A staff member bound to `role` (a code or several) in `district` (None: city-wide)."""
    user = User.objects.create(
        username=username or f"staff{_next()}",
        kind=UserKind.STAFF,
        first_name=extra.pop("first_name", "Reza"),
        last_name=extra.pop("last_name", f"Staff{_next()}"),
        **extra,
    )
    roles = [role] if isinstance(role, str) else list(role or [])
    for code in roles:
        bind_role(user, code, district)
    return user


def make_office(
    *,
    status: str = OfficeStatus.ACTIVE,
    licence_expires_on: dt.date | None = None,
    district: District | None = None,
    name: str | None = None,
) -> Office:
    """An e-service office; by default active with a licence valid for another year."""
    number = _next()
    return Office.objects.create(
        licence_number=f"EO-{number:05d}",
        licence_expires_on=licence_expires_on or timezone.localdate() + dt.timedelta(days=365),
        name=name or f"دفتر خدمات {number}",
        district=district or make_district(),
        status=status,
    )


def make_operator(username: str | None = None, *, office: Office | None = None, **extra) -> User:
    """An operator account working for `office` (a new active office if none)."""
    user = User.objects.create(
        username=username or f"operator{_next()}", kind=UserKind.OPERATOR, first_name="Ali", **extra
    )
    OfficeOperator.objects.create(office=office or make_office(), user=user)
    return user


def process_owner() -> User:
    """The process owner who publishes the test processes (made once per test database)."""
    owner = User.objects.filter(username="process-owner").first()
    if owner is None:
        owner = make_staff("process-owner", role="process_owner")
    return owner


def publish_definition(definition: dict | str) -> Service:
    """Import a definition (a dict, or YAML text) as a draft and publish it as a process owner.
    force=True: the roles the steps name need not be bound yet. Returns the service; publishing
    the same code again publishes a new version of it."""
    source = json.dumps(definition, ensure_ascii=False) if isinstance(definition, dict) else definition
    owner = process_owner()
    try:
        version = version_import(source=source, filename="test-process.yaml", by=owner)
        version_publish(version=version, by=owner, force=True)
    except CatalogError as error:
        # Say what is wrong with the test's process, not just how many errors it has.
        raise AssertionError("\n".join([str(error), *map(str, error.problems)])) from None
    return Service.objects.get(pk=version.service_id)


def small_process(code: str = "small-permit", **overrides) -> dict:
    """A small process that still uses every kind of step the engine moves:

    review (clerk: approve → checks, return → review, reject → rejected)
    checks: fork → inspect (inspector, done) ∥ tech_review (clerk, approve)
    checks_done: join → pay (payment: 500,000 + area_m2 × 100,000 Rials)
    issue (automatic, issue_document of output `permit`) → issued (end, approved)

    `overrides` replace top-level keys (e.g. fields=[…], channels=[…])."""
    data = {
        "schema": "pishkhan/process/1",
        "code": code,
        "version": 1,
        "title": {"fa": "مجوز آزمایشی", "en": "Test permit"},
        "channels": ["online", "office", "counter"],
        "legal_deadline_days": 30,
        "service_norm_days": 10,
        "start": "review",
        "documents": [
            {
                "id": "deed",
                "title": {"fa": "سند مالکیت", "en": "Title deed"},
                "formats": ["pdf", "jpg"],
                "step": "review",
            },
            {
                "id": "site_plan",
                "title": {"fa": "نقشه محل", "en": "Site plan"},
                "formats": ["pdf"],
                "required": False,
                "step": "inspect",
            },
        ],
        "fields": [
            {
                "id": "area_m2",
                "type": "number",
                "label": {"fa": "مساحت (مترمربع)", "en": "Area (m²)"},
                "required": True,
                "min": 1,
                "max": 1000,
            },
            {"id": "night_work", "type": "boolean", "label": {"fa": "کار در شب", "en": "Night work"}},
            {
                "id": "night_reason",
                "type": "text",
                "label": {"fa": "دلیل کار در شب", "en": "Why at night"},
                "required": True,
                "visible_if": "night_work == true",
            },
        ],
        "fees": [
            {
                "id": "filing",
                "title": {"fa": "هزینه تشکیل پرونده", "en": "Filing fee"},
                "amount": "500000",
                "step": "pay",
            },
            {
                "id": "area_fee",
                "title": {"fa": "عوارض مساحت", "en": "Area duty"},
                # int(): area_m2 may be a fractional number (a double in CEL), and CEL does not mix
                # int and double.
                "amount": "int(double(area_m2) * 100000.0)",
                "step": "pay",
            },
        ],
        "steps": [
            {
                "id": "review",
                "title": {"fa": "بررسی مدارک", "en": "Check the documents"},
                "role": "clerk",
                "kind": "review",
                "deadline_days": 2,
                "legal_basis": {"law": "آیین‌نامه آزمایشی", "article": "ماده ۱"},
                "outcomes": [
                    {"outcome": "approve", "to": "checks"},
                    {"outcome": "return", "to": "review"},
                    {"outcome": "reject", "to": "rejected"},
                ],
            },
            {"id": "checks", "kind": "fork", "branches": ["inspect", "tech_review"]},
            {
                "id": "inspect",
                "title": {"fa": "بازدید محل", "en": "Site inspection"},
                "role": "inspector",
                "kind": "inspection",
                "deadline_days": 3,
                "legal_basis": {"law": "آیین‌نامه آزمایشی", "article": "ماده ۲"},
                "outcomes": [{"outcome": "done", "to": "checks_done"}],
            },
            {
                "id": "tech_review",
                "title": {"fa": "بررسی فنی", "en": "Technical review"},
                "role": "clerk",
                "kind": "review",
                "deadline_days": 2,
                "legal_basis": {"law": "آیین‌نامه آزمایشی", "article": "ماده ۳"},
                "outcomes": [{"outcome": "approve", "to": "checks_done"}],
            },
            {"id": "checks_done", "kind": "join", "join_of": "checks", "next": "pay"},
            {
                "id": "pay",
                "title": {"fa": "پرداخت عوارض", "en": "Pay the duty"},
                "role": "clerk",
                "kind": "payment",
                "deadline_days": 5,
                "legal_basis": {"law": "قانون شهرداری‌ها", "article": "ماده ۵۵"},
                "outcomes": [{"outcome": "done", "to": "issue"}],
            },
            {
                "id": "issue",
                "title": {"fa": "صدور مجوز", "en": "Issue the permit"},
                "role": "clerk",
                "kind": "automatic",
                "action": "issue_document",
                "output": "permit",
                "deadline_days": 0,
                "outcomes": [{"outcome": "done", "to": "issued"}],
            },
            {
                "id": "issued",
                "kind": "end",
                "result": "approved",
                "title": {"fa": "مجوز صادر شد", "en": "Permit issued"},
            },
            {
                "id": "rejected",
                "kind": "end",
                "result": "rejected",
                "title": {"fa": "رد شد", "en": "Rejected"},
            },
        ],
        "outputs": [
            {
                "id": "permit",
                "kind": "permit",
                "title": {"fa": "مجوز آزمایشی", "en": "Test permit"},
                "template": "test-permit",
                "valid_days": 365,
            }
        ],
    }
    data.update(deepcopy(overrides))
    return data


def submit_case(
    *,
    service: Service | None = None,
    applicant: User | None = None,
    district: District | None = None,
    answers: dict | None = None,
    channel: str = "online",
    filed_by: User | None = None,
    office: Office | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
):
    """Submit a case through cases.services.case_submit, filling in what the test does not care
    about: the small process, a new citizen, a district, SMALL_ANSWERS, online by the applicant."""
    from pishkhan.cases.services import case_submit  # the engine under test; imported when used

    service = service or publish_definition(small_process())
    applicant = applicant or make_citizen()
    if filed_by is None:
        filed_by = applicant if channel == "online" else None
    return case_submit(
        service=service,
        applicant=applicant,
        filed_by=filed_by,
        answers=dict(SMALL_ANSWERS) if answers is None else answers,
        channel=channel,
        district=district or make_district(),
        office=office,
        idempotency_key=idempotency_key,
        now=now,
    )
