"""Reads from the process bank: the catalogue of services, their versions and the definitions they
hold, standard or as one district runs them."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from pishkhan.accounts.models import District, Role
from pishkhan.core.text import search_keys

from .definition import Definition, definition_from_dict
from .models import DistrictVariant, ProcessVersion, Service, VersionStatus
from .validation import apply_variant


def service_list(
    *, query: str = "", category: str | None = None, include_drafts: bool = False
) -> QuerySet[Service]:
    """Services in the catalogue, by code: those with a published version (with include_drafts,
    every service the bank knows). `query` is compared folded (core.text), so a query typed with
    Arabic Yeh or Kaf, with or without the half-space, finds the same services; an empty query
    finds all. `category` narrows to one category."""
    services = Service.objects.select_related("department")
    if not include_drafts:
        services = services.filter(versions__status=VersionStatus.PUBLISHED)
    if category:
        services = services.filter(category=category)
    folded, joined = search_keys(query)
    if joined:
        # search_text holds the folded form and the no-space form (services.search_text_for).
        services = services.filter(Q(search_text__contains=folded) | Q(search_text__contains=joined))
    return services.distinct().order_by("code")


def service_search(*, query: str, category: str | None = None) -> list[Service]:
    """`service_list` ranked for people: a service whose title is the query comes first, then titles
    that start with it, then titles that contain it, then matches in the description or keywords."""
    folded, joined = search_keys(query)

    def rank(service: Service):
        title, title_joined = search_keys(f"{service.title_fa} {service.title_en}")
        own = search_keys(service.title_fa)[0]
        return (
            own != folded,
            not own.startswith(folded),
            not (folded in title or joined in title_joined),
            service.code,
        )

    return sorted(service_list(query=query, category=category), key=rank)


def service_get(code: str) -> Service | None:
    """The service with this code, or None."""
    return Service.objects.select_related("department").filter(code=code).first()


def version_list(service: Service) -> QuerySet[ProcessVersion]:
    """Every version of a service, oldest first."""
    return service.versions.order_by("number")


def version_current(service: Service) -> ProcessVersion | None:
    """The version new cases start on: the latest published one, or None."""
    return service.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


def version_get(code: str, number: int) -> ProcessVersion | None:
    """Version `number` of the service `code`, or None."""
    return ProcessVersion.objects.select_related("service").filter(service__code=code, number=number).first()


def version_definition(version: ProcessVersion) -> Definition:
    """The definition a version stores, with the version's number and current status."""
    definition = definition_from_dict(version.body)
    definition.version = version.number
    definition.status = version.status
    return definition


def variant_list(version: ProcessVersion) -> QuerySet[DistrictVariant]:
    """The district variants of a version, by district number."""
    return version.variants.select_related("district").order_by("district__number")


def variant_get(version: ProcessVersion, district: District | str) -> DistrictVariant | None:
    """The variant of a version for a district (a District or its code), or None."""
    variants = version.variants.select_related("district", "version__service")
    if isinstance(district, District):
        return variants.filter(district=district).first()
    return variants.filter(district__code=district).first()


def variant_definition(variant: DistrictVariant) -> Definition:
    """The definition as the variant's district runs it: the version's body with the patch applied
    (remove, then change, then add)."""
    definition = definition_from_dict(apply_variant(variant.version.body, variant.patch))
    definition.version = variant.version.number
    definition.status = variant.version.status
    return definition


def version_for_district(service: Service, district: District) -> tuple[ProcessVersion, Definition] | None:
    """The version a new case in `district` starts on and the definition it follows there: the
    current version, with the district's variant applied when it has one. None when the service
    has no published version."""
    version = version_current(service)
    if version is None:
        return None
    variant = variant_get(version, district)
    return version, variant_definition(variant) if variant else version_definition(version)


# The kinds of step the engine queues for the people bound to the step's role, in the case's
# district or city-wide (cases.positions). `citizen` and `payment` steps wait for the applicant
# or the office that filed the case whatever role they name, and `automatic` steps run by
# themselves, so nobody needs a role binding for those.
STAFF_STEP_KINDS = ("review", "inspection", "signature")


def roles_worked_by_staff(definition: Definition) -> set[str]:
    """The role codes of the steps staff work in `definition` (STAFF_STEP_KINDS): the roles
    someone must hold, in a case's district or city-wide, for its cases to move."""
    return {step.role for step in definition.steps if step.kind in STAFF_STEP_KINDS and step.role}


def definitions_published(*, services: Iterable[str] | None = None) -> list[Definition]:
    """The definition of every published version, by service code; `services` narrows to these
    service codes."""
    versions = ProcessVersion.objects.select_related("service").filter(status=VersionStatus.PUBLISHED)
    if services is not None:
        versions = versions.filter(service__code__in=list(services))
    return [version_definition(v) for v in versions.order_by("service__code", "number")]


def role_codes_known() -> set[str]:
    """The role codes the city has (accounts.Role): the standard ones and any it added. Validation
    counts them as known besides those a definition declares."""
    return set(Role.objects.values_list("code", flat=True))
