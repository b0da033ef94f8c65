"""Writes to the process bank. Every change to a service, a version or a district variant goes
through one of these functions; each runs in one transaction.

The life of a version is one way: draft → published → retired. A draft is edited freely (it never
runs cases); publishing freezes it, retires the version published before it and is written to the
audit log; a published or retired version's body never changes again — every function here checks
that under a row lock, and the admin shows such bodies read-only.

The stored body is the canonical dict of catalog.definition (definition_to_dict) with `version` set
to the row's number and without `status`: the status is the row's, it changes on publication and
retirement while the content stays frozen, so body_hash covers only what the process says.

    version_import(*, source, filename, by=None, parsed=None) -> ProcessVersion
    version_update_draft(*, version, body, by, note="") -> ProcessVersion
    version_publish(*, version, by, force=False) -> Publication
    version_retire(*, version, by) -> ProcessVersion
    version_new_draft_from(*, version, by) -> ProcessVersion
    variant_set(*, version, district, patch, note="", by) -> DistrictVariant
    roles_ensure_from_definitions(*, definitions=None, by=None) -> list[Role]
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from pishkhan.accounts.models import Department, District, Role, RoleBinding
from pishkhan.core.audit import audit_record
from pishkhan.core.hashchain import canonical_json
from pishkhan.core.text import search_keys

from .definition import Definition, definition_from_dict, definition_to_dict
from .loader import Problem, load_definition_bytes, load_definition_text
from .models import DistrictVariant, ProcessVersion, Service, VersionStatus
from .selectors import definitions_published, role_codes_known, roles_worked_by_staff
from .validation import definition_validate, validate_definition, validate_variant

PROCESS_OWNER = "process_owner"
# Who acted when the bank loader or a command line without a signed-in user publishes.
SYSTEM_ACTOR_LABEL = "process bank"


class CatalogError(Exception):
    """A write to the bank was refused. `problems` lists why, as catalog.loader Problems (file, line,
    path, message, hint, severity) a clerk can act on; str(error) is a one-line summary."""

    def __init__(self, message: str, *, problems: list[Problem] | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


@dataclass
class ParsedSource:
    """A YAML or BPMN text read into a definition dict, with what reading it found."""

    format: str  # yaml | bpmn
    data: dict | None
    problems: list[Problem] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # BPMN elements with no counterpart in the format
    steps_found: list[str] = field(default_factory=list)  # ids of the work steps
    roles_found: list[str] = field(default_factory=list)  # roles the work steps name
    definition: Definition | None = None  # None when the data cannot be read as a definition

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def blocking(self) -> list[Problem]:
        """The errors that refuse an import. For YAML, every error: its author can fix the file.
        For BPMN, only those that leave no definition to store (unreadable XML, a schema error):
        BPMN has no place for documents, fields, fees or outputs, so an imported diagram is
        usually incomplete by nature (an issue_document step without its output, say); it is kept
        as a draft to complete, and publication, which validates again, refuses it until it is."""
        if self.data is None:
            return self.errors or [_unreadable(self)]
        if self.format == "bpmn" and self.definition is not None:
            return []
        return self.errors


@dataclass
class Publication:
    """What version_publish did: the version now published, the one it retired (if any) and the
    warnings it published despite (unbound roles under force=True)."""

    version: ProcessVersion
    retired: ProcessVersion | None
    warnings: list[Problem]


# --- reading sources --------------------------------------------------------------------------


def source_parse(*, source: str | bytes, filename: str) -> ParsedSource:
    """Read a YAML or BPMN text (BPMN when the name ends in .bpmn or .xml, or the text starts with
    `<`) into a definition dict and validate it, roles the city has (accounts.Role) counting as
    known. Never raises on bad input: problems say what is wrong. Reads only; it is here because
    every import starts with it."""
    text = source
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = None  # the loader reports where the bad byte is
    known = role_codes_known()
    if _is_bpmn(text, filename) if text is not None else source.lstrip().startswith(b"<"):
        from .bpmn import bpmn_import  # lxml is only loaded when someone imports BPMN

        raw = source if isinstance(source, bytes) else source.encode("utf-8")
        result = bpmn_import(raw, filename=filename)
        parsed = ParsedSource(
            format="bpmn", data=result.data, problems=list(result.problems), unmapped=list(result.unmapped)
        )
        if result.data is None or parsed.errors:
            return parsed  # the importer's own errors: nothing to validate
        definition, more = definition_validate(result.data, filename=filename, known_roles=known)
        parsed.problems = _unique(parsed.problems + more)
        if definition is None:
            # A diagram's gaps (an issue_document step without its output) fail the JSON Schema;
            # the draft is still worth keeping when its steps can be read (see `blocking`).
            try:
                definition = definition_from_dict(result.data)
            except (KeyError, TypeError, ValueError, AttributeError):
                definition = None
    else:
        loaded = (
            load_definition_text(text, filename=filename, known_roles=known)
            if text is not None
            else load_definition_bytes(source, filename=filename, known_roles=known)
        )
        definition = loaded.definition
        parsed = ParsedSource(format="yaml", data=loaded.data, problems=list(loaded.problems))
        if loaded.is_variant:
            parsed.problems.append(
                Problem(
                    file=filename,
                    line=None,
                    path="schema",
                    message=_("this is a district variant, not a process definition"),
                    hint=_("load variants with `pishkhan catalog load` or set them in the admin"),
                    severity="error",
                )
            )
    parsed.definition = definition
    if definition is not None:
        parsed.steps_found = [s.id for s in definition.work_steps]
        parsed.roles_found = sorted({s.role for s in definition.work_steps if s.role})
    return parsed


def _unreadable(parsed: ParsedSource) -> Problem:
    message = _("the %(format)s text holds no definition") % {"format": parsed.format}
    return Problem(file="", line=None, path="", message=message, severity="error")


def body_canonical(data: dict, *, number: int) -> dict:
    """The body a version stores for a definition dict that passed validation (module docstring)."""
    body = definition_to_dict(definition_from_dict(data))
    body["version"] = number
    body.pop("status", None)
    return body


def body_hash(body: dict) -> str:
    """SHA-256 (hex) of a body's canonical JSON: equal bodies hash equal on SQLite and PostgreSQL."""
    return hashlib.sha256(canonical_json(body)).hexdigest()


# --- versions ---------------------------------------------------------------------------------


def version_import(
    *, source: str | bytes, filename: str, by=None, parsed: ParsedSource | None = None
) -> ProcessVersion:
    """Import a YAML or BPMN definition as a new draft of its service.

    The service (by the definition's code) is created if new. The draft gets the service's next
    version number whatever number the file says, and is a draft whatever status the file says:
    publishing is a separate, audited act of a process owner. Stores the source text, its format,
    the canonical body and its hash.

    Raises CatalogError carrying the problems when the text cannot be read or has validation
    errors; nothing is written then. Warnings do not refuse an import, and neither do the semantic
    errors of a BPMN import (ParsedSource.blocking says why); those stay for the author to fix
    before publishing. `parsed`: the result of source_parse on the same source, when the caller
    has it already (to report what was found)."""
    parsed = parsed or source_parse(source=source, filename=filename)
    if parsed.blocking:
        raise CatalogError(
            _("%(file)s has %(count)d error(s); nothing was imported.")
            % {"file": filename or "the definition", "count": len(parsed.blocking)},
            problems=parsed.problems,
        )
    text = source.decode("utf-8-sig") if isinstance(source, bytes) else source
    with transaction.atomic():
        service = _service_for(parsed.data)
        # The lock on the service row keeps two imports of one service from taking the same number.
        service = Service.objects.select_for_update().get(pk=service.pk)
        number = (service.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        return _version_create(
            service=service,
            number=number,
            data=parsed.data,
            source=text,
            source_format=parsed.format,
            by=by,
        )


def version_update_draft(*, version: ProcessVersion, body: dict, by, note: str = "") -> ProcessVersion:
    """Replace a draft's definition with `body` (a definition dict, e.g. an edited export).

    Refuses with CatalogError, changing nothing, when the version is not a draft (a published
    version never changes: make a new draft with version_new_draft_from), when the body names
    another service, or when it has validation errors. The body's version number and status are
    ignored. The stored source is cleared: it no longer describes the body."""
    with transaction.atomic():
        version = _locked(version)
        _require_draft(version)
        if body.get("code") != version.service.code:
            raise CatalogError(
                _("The definition is for service `%(code)s`, not `%(service)s`.")
                % {"code": body.get("code"), "service": version.service.code}
            )
        filename = f"{version.service.code} v{version.number}"
        data = {**body, "version": version.number, "status": VersionStatus.DRAFT}
        errors = [
            p
            for p in validate_definition(data, filename=filename, known_roles=role_codes_known())
            if _is_error(p)
        ]
        if errors:
            raise CatalogError(
                _("%(file)s has %(count)d error(s); the draft was not changed.")
                % {"file": filename, "count": len(errors)},
                problems=errors,
            )
        version.body = body_canonical(data, number=version.number)
        version.body_hash = body_hash(version.body)
        version.source = ""
        version.source_format = "yaml"
        if note:
            version.note = note
        version.save(update_fields=["body", "body_hash", "source", "source_format", "note"])
        return version


def version_publish(*, version: ProcessVersion, by, force: bool = False) -> Publication:
    """Publish a draft: from now on new cases start on it.

    Only a person with a `process_owner` role binding (city-wide or in any district, for any
    department or the service's) may publish; anyone else gets PermissionDenied. The body is
    validated again, and every role its steps name must be bound to someone in at least one
    district or city-wide — otherwise the case would wait in nobody's inbox — which refuses with
    CatalogError, unless force=True, which publishes and returns those as warnings (the bank
    loader does this: a fresh city binds its people after loading the bank).

    Retires the service's previously published version, updates the service's titles, department,
    category and search text from the new version, and writes `process.published` to the audit
    log, all in one transaction."""
    _require_process_owner(by, service=version.service)
    return _publish(version=version, by=by, force=force)


def version_retire(*, version: ProcessVersion, by) -> ProcessVersion:
    """Retire a published version: open cases finish on it, no new case starts on it. Only a
    process owner may (PermissionDenied); a draft or retired version is refused (CatalogError).
    Writes `process.retired` to the audit log. The service then has no published version until one
    is published: its catalogue entry disappears."""
    _require_process_owner(by, service=version.service)
    with transaction.atomic():
        version = _locked(version)
        if version.status != VersionStatus.PUBLISHED:
            raise CatalogError(
                _("Version %(number)d of `%(code)s` is %(status)s; only a published version can be retired.")
                % {"number": version.number, "code": version.service.code, "status": version.status}
            )
        version.status = VersionStatus.RETIRED
        version.save(update_fields=["status"])
        audit_record(
            action="process.retired",
            actor=by,
            actor_label=_label(by),
            subject=_subject(version),
            data={"service": version.service.code, "version": version.number},
        )
        return version


def version_new_draft_from(*, version: ProcessVersion, by) -> ProcessVersion:
    """Copy a version (of any status) to a new draft with the service's next number: the way to
    change a published process. The copy's note says where it came from."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=version.service_id)
        number = (service.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        body = {**version.body, "version": number}
        return ProcessVersion.objects.create(
            service=service,
            number=number,
            status=VersionStatus.DRAFT,
            body=body,
            body_hash=body_hash(body),
            source="",
            source_format="yaml",
            note=_("Copied from version %(number)d.") % {"number": version.number},
            created_by=_user(by),
        )


def variant_set(
    *, version: ProcessVersion, district: District, patch: dict, note: str = "", by
) -> DistrictVariant:
    """Create or replace the district's variant of a version: a patch of remove_steps,
    change_steps and add_steps (docs/process-format.md, "District variants"). The version's own
    body is never touched, so a published version may have variants set.

    The patch applied to the version must validate; otherwise CatalogError with the problems and
    nothing changes. Writes `process.variant_set` to the audit log: a variant changes how a
    district runs a live process."""
    filename = f"variants/{version.service.code}.{district.code}.yaml"
    data = {
        "schema": "pishkhan/variant/1",
        "variant_of": version.service.code,
        "version": version.number,
        "district": district.code,
        **patch,
    }
    errors = [
        p for p in validate_variant(data, base=version.body, filename=filename, lines=None) if _is_error(p)
    ]
    if errors:
        raise CatalogError(
            _("The variant of `%(code)s` for %(district)s has %(count)d error(s); nothing was changed.")
            % {"code": version.service.code, "district": district.code, "count": len(errors)},
            problems=errors,
        )
    with transaction.atomic():
        variant, created = DistrictVariant.objects.update_or_create(
            version=version,
            district=district,
            defaults={"patch": data, "note": note},
        )
        audit_record(
            action="process.variant_set",
            actor=_user(by),
            actor_label=_label(by),
            subject=_subject(version) + f":{district.code}",
            data={
                "service": version.service.code,
                "version": version.number,
                "district": district.code,
                "created": created,
            },
        )
        return variant


# --- for the bank loader ----------------------------------------------------------------------


def version_create_from_bank(*, data: dict, source: str, by=None) -> ProcessVersion:
    """Create the version a bank file describes, with the file's own number (the bank is the
    record of which version is which) as a draft; publishing it is the caller's next step through
    version_publish_from_bank. `data` must have passed validation. Refuses (CatalogError) when that
    number exists."""
    with transaction.atomic():
        service = Service.objects.select_for_update().get(pk=_service_for(data).pk)
        number = int(data.get("version", 1))
        if service.versions.filter(number=number).exists():
            raise CatalogError(
                _("Version %(number)d of `%(code)s` exists already.")
                % {"number": number, "code": service.code}
            )
        return _version_create(
            service=service, number=number, data=data, source=source, source_format="yaml", by=by
        )


def version_publish_from_bank(*, version: ProcessVersion, by=None) -> Publication:
    """Publish a version the bank files say is published, without a process owner: loading the
    bank is an operator's act at the command line (or the demo's seeding), and it is audited like
    any publication, with the actor left empty when none is given. Roles bound nowhere are
    warnings here (force), since a fresh city binds its people after loading its bank."""
    return _publish(version=version, by=by, force=True)


def version_retire_from_bank(*, version: ProcessVersion) -> ProcessVersion:
    """Mark a freshly created bank version retired, as its file says (a version kept in the bank
    for the record). Only a draft just created by the loader may be retired this way."""
    with transaction.atomic():
        version = _locked(version)
        _require_draft(version)
        version.status = VersionStatus.RETIRED
        version.save(update_fields=["status"])
        return version


def roles_ensure_from_definitions(*, definitions: Iterable[Definition] | None = None, by=None) -> list[Role]:
    """Give the city a role (accounts.Role) for every staff role the definitions declare, so that
    districts can bind people to them; return the roles created, by code.

    `definitions`: default every published version. A declared role counts when a step staff work
    names it (selectors.STAFF_STEP_KINDS); `applicant` and the like name only `citizen` and
    `payment` steps, which the engine gives to the applicant or the office that filed the case,
    so they get no row. A new role takes its titles from the first definition, by service code,
    that declares it; a role that exists is left as it is (the city may have renamed it). When
    any is created, one role.created event in the audit log lists the codes. Safe to run again."""
    definitions = definitions_published() if definitions is None else list(definitions)
    titles: dict[str, tuple[str, str]] = {}
    for definition in definitions:
        worked = roles_worked_by_staff(definition)
        for role in definition.roles:
            if role.code in worked:
                titles.setdefault(role.code, (role.title.fa, role.title.en or role.title.fa))
    existing = set(Role.objects.filter(code__in=titles).values_list("code", flat=True))
    fa_length, en_length = (Role._meta.get_field(name).max_length for name in ("name_fa", "name_en"))
    new_roles = [
        Role(code=code, name_fa=fa[:fa_length], name_en=en[:en_length])
        for code, (fa, en) in sorted(titles.items())
        if code not in existing
    ]
    if not new_roles:
        return []
    with transaction.atomic():
        # A role made by a concurrent run in between is skipped rather than refused.
        Role.objects.bulk_create(new_roles, ignore_conflicts=True)
        audit_record(
            action="role.created",
            actor=_user(by),
            actor_label=_label(by),
            subject="roles",
            data={"roles": [role.code for role in new_roles], "source": "process definitions"},
        )
    return list(Role.objects.filter(code__in=[role.code for role in new_roles]).order_by("code"))


# --- helpers ----------------------------------------------------------------------------------


def _publish(*, version: ProcessVersion, by, force: bool) -> Publication:
    with transaction.atomic():
        version = _locked(version)
        _require_draft(version)
        service = Service.objects.select_for_update().get(pk=version.service_id)
        filename = f"{service.code} v{version.number}"
        data = {**version.body, "status": VersionStatus.PUBLISHED}
        errors = [
            p
            for p in validate_definition(data, filename=filename, known_roles=role_codes_known())
            if _is_error(p)
        ]
        if errors:
            raise CatalogError(
                _("%(file)s has %(count)d error(s); it was not published.")
                % {"file": filename, "count": len(errors)},
                problems=errors,
            )
        definition = definition_from_dict(data)
        unbound = _unbound_roles(definition, filename=filename)
        if unbound and not force:
            raise CatalogError(
                _("%(file)s names roles that nobody holds; bind them first.") % {"file": filename},
                problems=unbound,
            )
        previous = (
            service.versions.select_for_update()
            .filter(status=VersionStatus.PUBLISHED)
            .exclude(pk=version.pk)
            .first()
        )
        if previous is not None:
            previous.status = VersionStatus.RETIRED
            previous.save(update_fields=["status"])
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = _user(by)
        version.save(update_fields=["status", "published_at", "published_by"])
        _service_refresh(service, definition)
        audit_record(
            action="process.published",
            actor=_user(by),
            actor_label=_label(by),
            subject=_subject(version),
            data={
                "service": service.code,
                "version": version.number,
                "body_hash": version.body_hash,
                "retired_version": previous.number if previous else None,
                "unbound_roles": sorted({p.path for p in unbound}),
            },
        )
        return Publication(version=version, retired=previous, warnings=unbound)


def _version_create(*, service, number, data, source, source_format, by) -> ProcessVersion:
    body = body_canonical(data, number=number)
    return ProcessVersion.objects.create(
        service=service,
        number=number,
        status=VersionStatus.DRAFT,
        body=body,
        body_hash=body_hash(body),
        source=source,
        source_format=source_format,
        created_by=_user(by),
    )


def _service_for(data: dict) -> Service:
    """The service a definition belongs to, created from the definition when new. An existing
    service keeps its titles until a version is published (the catalogue shows the published one)."""
    definition = definition_from_dict(data)
    service = Service.objects.filter(code=definition.code).first()
    if service is not None:
        return service
    service = Service(code=definition.code)
    _service_fill(service, definition)
    service.save()
    return service


def _service_refresh(service: Service, definition: Definition) -> None:
    _service_fill(service, definition)
    service.save(update_fields=["title_fa", "title_en", "department", "category", "search_text"])


def _service_fill(service: Service, definition: Definition) -> None:
    service.title_fa = definition.title.fa
    service.title_en = definition.title.en
    service.department = (
        Department.objects.filter(code=definition.department).first() if definition.department else None
    )
    service.category = definition.category
    service.search_text = search_text_for(definition)


def search_text_for(definition: Definition) -> str:
    """The folded search key of a definition: code, titles in both languages, keywords,
    description and document titles, once with spaces and once without (so `می روم` finds
    `می‌روم`; core.text.search_keys). Two lines, so a match never spans the two forms."""
    parts = [definition.code, definition.title.fa, definition.title.en, *definition.keywords]
    if definition.description:
        parts += [definition.description.fa, definition.description.en]
    parts += [t for doc in definition.documents for t in (doc.title.fa, doc.title.en)]
    folded, joined = search_keys(" | ".join(p for p in parts if p))
    return f"{folded}\n{joined}"


def _unbound_roles(definition: Definition, *, filename: str) -> list[Problem]:
    used: dict[str, str] = {}  # role → the first step naming it
    staff_roles = roles_worked_by_staff(definition)
    for step in definition.work_steps:
        # Citizen, payment and automatic steps need nobody bound: see roles_worked_by_staff.
        if step.role in staff_roles:
            used.setdefault(step.role, step.id)
    bound = set(
        RoleBinding.objects.filter(role__code__in=used).values_list("role__code", flat=True).distinct()
    )
    return [
        Problem(
            file=filename,
            line=None,
            path=role,
            message=_("step `%(step)s` names role `%(role)s` which no district binds")
            % {"step": step_id, "role": role},
            hint=_("Bind the role to someone (in a district or city-wide) before publishing."),
            severity="error",
        )
        for role, step_id in sorted(used.items())
        if role not in bound
    ]


def _require_process_owner(user, *, service: Service) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise PermissionDenied(_("Only a process owner may publish or retire a process version."))
    bindings = RoleBinding.objects.filter(user=user, role__code=PROCESS_OWNER)
    if service.department_id is not None:
        # A process owner bound to a department owns that department's processes only.
        bindings = bindings.filter(Q(department__isnull=True) | Q(department_id=service.department_id))
    if not bindings.exists():
        raise PermissionDenied(
            _("%(user)s is not a process owner of `%(code)s`; only a process owner may publish or retire it.")
            % {"user": user, "code": service.code}
        )


def _require_draft(version: ProcessVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise CatalogError(
            _(
                "Version %(number)d of `%(code)s` is %(status)s and never changes; "
                "make a new draft from it to change the process."
            )
            % {"number": version.number, "code": version.service.code, "status": version.status}
        )


def _locked(version: ProcessVersion) -> ProcessVersion:
    # Re-read under a lock: the caller's object may be stale (published a moment ago elsewhere).
    return ProcessVersion.objects.select_for_update().select_related("service").get(pk=version.pk)


def _is_error(problem: Problem) -> bool:
    return problem.severity == "error"


def _is_bpmn(text: str, filename: str) -> bool:
    if filename.lower().endswith((".bpmn", ".xml")):
        return True
    return text.lstrip().startswith("<")


def _unique(problems: list[Problem]) -> list[Problem]:
    seen, result = set(), []
    for problem in problems:
        key = (problem.path, problem.message)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def _user(by):
    return by if by is not None and getattr(by, "is_authenticated", False) else None


def _label(by) -> str:
    return str(by) if _user(by) is not None else SYSTEM_ACTOR_LABEL


def _subject(version: ProcessVersion) -> str:
    return f"process:{version.service.code}@{version.number}"
