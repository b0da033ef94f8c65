"""What the simulator reads from the city before it plays: districts, who holds which role where,
offices and their operators, citizens, and each service's definition per district.

Read once, in a handful of queries, into plain values: the simulation itself touches no database.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from pishkhan.accounts.models import District, RoleBinding, User, UserKind
from pishkhan.catalog.definition import Definition
from pishkhan.catalog.models import DistrictVariant, ProcessVersion, Service
from pishkhan.catalog.selectors import variant_get, version_for_district
from pishkhan.offices.models import Office, OfficeOperator, OfficeStatus

MANAGER_ROLE = "manager"


@dataclass(frozen=True)
class Plan:
    """How one service runs in one district: the version and variant a case filed there starts on."""

    version: ProcessVersion
    variant: DistrictVariant | None
    definition: Definition


@dataclass
class World:
    districts: list[District]
    staff: dict[tuple[str, int | None], list[int]]  # (role, district id or None = city-wide) → user ids
    managers: dict[int, list[int]]  # district id → the managers escalations go to
    offices: dict[int, list[tuple[int, list[int]]]]  # district id → [(office id, [operator ids])]
    citizens: list[int]
    services: dict[str, Service]
    plans: dict[tuple[str, int], Plan] = field(default_factory=dict)  # (service code, district id)

    def holders(self, role: str, district_id: int) -> tuple[tuple[str, int | None], list[int]]:
        """The pool of people who work `role` in a district: its own holders, else the city-wide
        ones (the engine's rule: a city-wide binding is that role in every district)."""
        own = self.staff.get((role, district_id))
        if own:
            return (role, district_id), own
        return (role, None), self.staff.get((role, None), [])


def world_load(*, service_codes: list[str], today: dt.date) -> World:
    """Read what the simulation needs. Raises LookupError naming a service that is not in the bank
    or has no published version."""
    districts = list(District.objects.order_by("number"))
    staff: dict[tuple[str, int | None], list[int]] = defaultdict(list)
    bindings = (
        RoleBinding.objects.filter(user__is_active=True, user__kind=UserKind.STAFF)
        .order_by("role__code", "district_id", "user_id")
        .values_list("role__code", "district_id", "user_id")
    )
    for role, district_id, user_id in bindings:
        if user_id not in staff[(role, district_id)]:
            staff[(role, district_id)].append(user_id)
    managers = {
        d.pk: staff.get((MANAGER_ROLE, d.pk)) or staff.get((MANAGER_ROLE, None)) or [] for d in districts
    }
    operators: dict[int, list[int]] = defaultdict(list)
    for office_id, user_id in (
        OfficeOperator.objects.filter(user__is_active=True).order_by("pk").values_list("office_id", "user_id")
    ):
        operators[office_id].append(user_id)
    offices: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for office in Office.objects.filter(status=OfficeStatus.ACTIVE, licence_expires_on__gte=today).order_by(
        "pk"
    ):
        if operators.get(office.pk):
            offices[office.district_id].append((office.pk, operators[office.pk]))
    citizens = list(
        User.objects.filter(kind=UserKind.CITIZEN, is_active=True).order_by("pk").values_list("pk", flat=True)
    )
    services = {s.code: s for s in Service.objects.filter(code__in=service_codes)}
    world = World(
        districts=districts,
        staff=dict(staff),
        managers=managers,
        offices=dict(offices),
        citizens=citizens,
        services=services,
    )
    for code in service_codes:
        service = services.get(code)
        if service is None:
            raise LookupError(f"service {code!r} is not in the process bank (run `pishkhan catalog load`)")
        for district in districts:
            found = version_for_district(service, district)
            if found is None:
                raise LookupError(f"service {code!r} has no published version")
            version, definition = found
            world.plans[(code, district.pk)] = Plan(version, variant_get(version, district), definition)
    return world
