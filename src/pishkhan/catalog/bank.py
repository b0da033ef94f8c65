"""The process bank on disk: the folder of YAML definitions shipped with Pishkhan (or a city's own,
PISHKHAN_PROCESS_BANK_DIR), and loading it into the database.

    bank_dir() -> Path
    bank_load(*, directory=None, by=None) -> BankLoadReport
    definition_yaml(definition) -> str

Layout: `<dir>/*.yaml` are definitions (one version each; `building-permit.v2.yaml` is a second
version of `building-permit` — the name is for people, the file's `code` and `version` decide),
`<dir>/variants/<code>.<district>.yaml` are district variants.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from pishkhan.accounts.models import District

from .definition import Definition, definition_to_dict
from .loader import Problem, load_definition_text
from .models import DistrictVariant, ProcessVersion, VersionStatus
from .selectors import role_codes_known
from .services import (
    CatalogError,
    body_canonical,
    body_hash,
    variant_set,
    version_create_from_bank,
    version_publish_from_bank,
    version_retire_from_bank,
    version_update_draft,
)

YAML_SUFFIXES = (".yaml", ".yml")


def bank_dir() -> Path:
    """The folder of the process bank (settings.PROCESS_BANK_DIR)."""
    return Path(settings.PROCESS_BANK_DIR)


@dataclass
class BankLoadReport:
    """What bank_load did, one entry per file. `lines()` is what `pishkhan catalog load` prints."""

    created: list[str] = field(default_factory=list)  # "building-permit v1 (published)"
    updated: list[str] = field(default_factory=list)  # drafts whose file changed
    published: list[str] = field(default_factory=list)  # existing drafts the files now say are published
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # frozen versions whose file differs; left alone
    variants_set: list[str] = field(default_factory=list)
    variants_unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # with the reason
    problems: list[Problem] = field(default_factory=list)  # of files that could not be loaded
    warnings: list[Problem] = field(default_factory=list)  # published anyway (roles nobody holds yet)

    @property
    def ok(self) -> bool:
        """True when every file was loaded or already there: no conflicts, no invalid files."""
        return not self.conflicts and not any(p.severity == "error" for p in self.problems)

    def lines(self) -> list[str]:
        """The report, one line per file, then a summary line."""
        out = [f"created   {item}" for item in self.created]
        out += [f"updated   {item}" for item in self.updated]
        out += [f"published {item}" for item in self.published]
        out += [f"unchanged {item}" for item in self.unchanged]
        out += [f"CONFLICT  {item}" for item in self.conflicts]
        out += [f"variant   {item}" for item in self.variants_set]
        out += [f"unchanged {item}" for item in self.variants_unchanged]
        out += [f"skipped   {item}" for item in self.skipped]
        out += [f"warning   {line}" for line in _grouped_warnings(self.warnings)]
        out += [f"{p.severity:<9} {format_problem(p)}" for p in self.problems]
        out.append(
            f"{len(self.created)} created, {len(self.updated)} updated, {len(self.published)} published, "
            f"{len(self.unchanged)} unchanged, {len(self.conflicts)} conflict(s); "
            f"{len(self.variants_set)} variant(s) set, {len(self.variants_unchanged)} unchanged; "
            f"{len(self.skipped)} skipped, {sum(p.severity == 'error' for p in self.problems)} error(s)"
        )
        return out


def format_problem(problem: Problem) -> str:
    """`file:line: path: message (hint)`, leaving out the parts a problem does not have."""
    where = problem.file or ""
    if problem.line:
        where += f":{problem.line}"
    text = f"{where}: " if where else ""
    if problem.path:
        text += f"{problem.path}: "
    text += problem.message
    if problem.hint:
        text += f" ({problem.hint})"
    return text


def bank_load(*, directory: Path | str | None = None, by=None) -> BankLoadReport:
    """Load the bank folder into the database; safe to run again and again.

    For each definition file, in (code, version) order so that a later published version retires
    an earlier one: create the version when missing, with the status the file gives (draft,
    published — audited like any publication — or retired); leave it alone when its body hash is
    the same; update a draft whose file changed; publish a draft the file now says is published.
    A published or retired version whose file differs is never modified: that is reported as a
    conflict (publish the change as a new version number). Then each variant file: set it when
    new or changed, skip it (with a line in the report) when its district or version does not
    exist. Invalid files are reported with their problems and skipped. One transaction per file."""
    root = Path(directory) if directory is not None else bank_dir()
    report = BankLoadReport()
    if not root.is_dir():
        report.skipped.append(f"{root}: no such folder")
        return report

    definitions = []
    known = role_codes_known()
    for path in _yaml_files(root):
        name = _display_name(path, root)
        loaded = load_definition_text(path.read_text(encoding="utf-8"), filename=name, known_roles=known)
        errors = [p for p in loaded.problems if p.severity == "error"]
        if loaded.data is None or errors:
            report.problems.extend(errors or loaded.problems)
            continue
        definitions.append((loaded.data["code"], int(loaded.data.get("version", 1)), name, loaded.data, path))
    for code, number, name, data, path in sorted(definitions, key=lambda item: item[:2]):
        with transaction.atomic():
            _load_definition(report, code=code, number=number, name=name, data=data, path=path, by=by)

    variants_dir = root / "variants"
    if variants_dir.is_dir():
        for path in _yaml_files(variants_dir):
            with transaction.atomic():
                _load_variant(report, path=path, name=_display_name(path, root), by=by)
    return report


def definition_yaml(definition: Definition) -> str:
    """A definition as a bank file: the canonical dict (definition_to_dict) in block style, keys in
    the canonical order, Persian written as is (not \\u-escaped), long titles on one line."""
    yaml = YAML()  # the round-trip dumper keeps the canonical key order
    yaml.allow_unicode = True
    yaml.default_flow_style = False
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    buffer = io.StringIO()
    yaml.dump(definition_to_dict(definition), buffer)
    return buffer.getvalue()


# --- helpers ----------------------------------------------------------------------------------


def _load_definition(report: BankLoadReport, *, code, number, name, data, path, by) -> None:
    label = f"{code} v{number}"
    wanted = data.get("status", VersionStatus.DRAFT)
    existing = (
        ProcessVersion.objects.select_related("service").filter(service__code=code, number=number).first()
    )
    if existing is None:
        version = version_create_from_bank(data=data, source=path.read_text(encoding="utf-8"), by=by)
        if wanted == VersionStatus.PUBLISHED:
            report.warnings.extend(version_publish_from_bank(version=version, by=by).warnings)
        elif wanted == VersionStatus.RETIRED:
            version_retire_from_bank(version=version)
        report.created.append(f"{label} ({wanted})  {name}")
        return
    same = body_hash(body_canonical(data, number=number)) == existing.body_hash
    if existing.status != VersionStatus.DRAFT:
        if same:
            report.unchanged.append(f"{label} ({existing.status})")
        else:
            report.conflicts.append(
                f"{label} is {existing.status} and never changes, but {name} differs from it; "
                f"give the change a new version number"
            )
        return
    if not same:
        try:
            version_update_draft(version=existing, body=data, by=by, note="")
        except CatalogError as error:
            report.problems.extend(error.problems)
            return
        existing.source = path.read_text(encoding="utf-8")
        existing.save(update_fields=["source"])
        report.updated.append(f"{label} (draft)  {name}")
    if wanted == VersionStatus.PUBLISHED:
        report.warnings.extend(version_publish_from_bank(version=existing, by=by).warnings)
        report.published.append(label)
    elif same:
        report.unchanged.append(f"{label} (draft)")


def _load_variant(report: BankLoadReport, *, path: Path, name: str, by) -> None:
    try:
        data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except YAMLError as error:
        report.problems.append(
            Problem(file=name, line=None, path="", message=f"not YAML: {error}", hint="", severity="error")
        )
        return
    if not isinstance(data, dict) or not data.get("variant_of") or not data.get("district"):
        report.problems.append(
            Problem(
                file=name,
                line=None,
                path="",
                message="not a variant: `variant_of` and `district` are missing",
                hint="see docs/process-format.md, District variants",
                severity="error",
            )
        )
        return
    code, district_code, number = data["variant_of"], str(data["district"]), int(data.get("version", 1))
    district = District.objects.filter(code=district_code).first()
    if district is None:
        report.skipped.append(f"{name}: district {district_code} does not exist in this city")
        return
    version = (
        ProcessVersion.objects.select_related("service").filter(service__code=code, number=number).first()
    )
    if version is None:
        report.skipped.append(f"{name}: {code} v{number} is not in the bank")
        return
    existing = DistrictVariant.objects.filter(version=version, district=district).first()
    patch = {k: v for k, v in data.items() if k != "note"}
    note = _note_text(data.get("note"))
    if (
        existing is not None
        and existing.patch == _with_header(patch, version, district_code)
        and existing.note == note
    ):
        report.variants_unchanged.append(f"{code} v{number} @ {district_code}")
        return
    try:
        variant = variant_set(version=version, district=district, patch=patch, note=note, by=by)
    except CatalogError as error:
        report.problems.extend(error.problems or [_summary_problem(name, error)])
        return
    variant.source = path.read_text(encoding="utf-8")
    variant.save(update_fields=["source"])
    report.variants_set.append(f"{code} v{number} @ {district_code}  {name}")


def _grouped_warnings(warnings: list[Problem]) -> list[str]:
    # A fresh city binds nobody yet: one line per version naming its unbound roles, not one per role.
    roles: dict[str, list[str]] = {}
    for problem in warnings:
        roles.setdefault(problem.file, []).append(problem.path)
    return [
        f"{where}: published although nobody holds these roles yet: {', '.join(names)}"
        for where, names in roles.items()
    ]


def _with_header(patch: dict, version: ProcessVersion, district_code: str) -> dict:
    # variant_set stores the patch with its header filled in; compare like with like.
    return {
        "schema": "pishkhan/variant/1",
        "variant_of": version.service.code,
        "version": version.number,
        "district": district_code,
        **patch,
    }


def _note_text(note) -> str:
    if isinstance(note, dict):
        return note.get("fa", "") or note.get("en", "")
    return str(note or "")


def _summary_problem(name: str, error: CatalogError) -> Problem:
    return Problem(file=name, line=None, path="", message=str(error), hint="", severity="error")


def _yaml_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES)


def _display_name(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)
