"""The desk's comparisons: a service's versions and district variants side by side, and what
changed between any two of them.

    service_columns(service) -> list[Column]
    metric_rows(columns, baseline) -> list[MetricRow]
    column_get(service, key) -> Column | None      key: "2" or "1:d07"
    step_changes(diff, *, language, roles) -> StepChanges
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from pishkhan.catalog import selectors
from pishkhan.catalog.definition import Definition, LegalBasis, Outcome, Step, Text
from pishkhan.catalog.diff import DefinitionDiff, Departure, format_number, signed, variant_departure
from pishkhan.catalog.metrics import METRIC_LABELS, Metrics, definition_metrics
from pishkhan.catalog.models import DistrictVariant, ProcessVersion, VersionStatus
from pishkhan.core.text import localize_digits

# The metrics where a larger number is the simpler process.
MORE_IS_BETTER = frozenset({"automatic_steps"})
COLUMN_KEY = re.compile(r"^(\d{1,6})(?::([a-z0-9][a-z0-9_-]{0,19}))?$")

STEP_ATTRIBUTE_LABELS = {
    "title": gettext_lazy("title"),
    "role": gettext_lazy("role"),
    "kind": gettext_lazy("kind"),
    "deadline_days": gettext_lazy("deadline (working days)"),
    "discretionary": gettext_lazy("discretionary"),
    "signature": gettext_lazy("signature"),
    "legal_basis": gettext_lazy("legal basis"),
    "outcomes": gettext_lazy("outcomes"),
    "branches": gettext_lazy("branches"),
    "join_of": gettext_lazy("joins"),
    "next": gettext_lazy("next step"),
    "result": gettext_lazy("result"),
    "action": gettext_lazy("action"),
    "output": gettext_lazy("output"),
}


@dataclass
class Column:
    """One definition to compare: a version as the bank holds it, or as one district runs it."""

    key: str  # "2", or "1:d07" for district 7's variant of version 1
    version: ProcessVersion
    definition: Definition
    metrics: Metrics
    variant: DistrictVariant | None = None
    departure: Departure | None = None  # for a variant: how far it departs from its version

    @property
    def is_variant(self) -> bool:
        return self.variant is not None

    @property
    def status(self) -> str:
        return self.version.status

    @property
    def label(self) -> str:
        """`Version 2`, or `Version 1 in District 7`, in the active language."""
        number = localize_digits(self.version.number)
        if self.variant is None:
            return _("Version %(number)s") % {"number": number}
        district = self.variant.district
        english = (get_language() or "fa").startswith("en")
        name = district.name_en if english and district.name_en else district.name_fa
        return _("Version %(number)s in %(district)s") % {"number": number, "district": name}


@dataclass
class Cell:
    value: float
    delta: float | None = None  # against the baseline; None in the baseline column

    @property
    def shown(self) -> str:
        return format_number(self.value)

    @property
    def delta_shown(self) -> str:
        return signed(self.delta) if self.delta else ""

    more_is_better: bool = False

    @property
    def trend(self) -> str:
        """better / worse / same: fewer steps, signatures, days … is better for the citizen; more
        automatic steps is better (the system does what a clerk did by hand)."""
        if not self.delta:
            return "same"
        return "better" if (self.delta > 0) == self.more_is_better else "worse"


@dataclass
class MetricRow:
    name: str
    label: str
    cells: list[Cell] = field(default_factory=list)


def _version_column(version: ProcessVersion) -> Column:
    definition = selectors.version_definition(version)
    return Column(
        key=str(version.number),
        version=version,
        definition=definition,
        metrics=definition_metrics(definition),
    )


def _variant_column(variant: DistrictVariant, base: Column) -> Column:
    definition = selectors.variant_definition(variant)
    return Column(
        key=f"{variant.version.number}:{variant.district.code}",
        version=variant.version,
        definition=definition,
        metrics=definition_metrics(definition),
        variant=variant,
        departure=variant_departure(base.definition, definition),
    )


def service_columns(service) -> list[Column]:
    """Every version of the service, oldest first, then every district variant (by version, then
    district number)."""
    versions = [_version_column(v) for v in selectors.version_list(service)]
    variants = []
    for column in versions:
        for variant in selectors.variant_list(column.version):
            variants.append(_variant_column(variant, column))
    return versions + variants


def baseline_index(columns: list[Column]) -> int:
    """The column deltas are measured against: the published version, else the first."""
    for index, column in enumerate(columns):
        if not column.is_variant and column.status == VersionStatus.PUBLISHED:
            return index
    return 0


def metric_rows(columns: list[Column], baseline: int) -> list[MetricRow]:
    """One row per reform metric, one cell per column, with deltas against `baseline`."""
    rows = []
    for name, label in METRIC_LABELS.items():
        base = columns[baseline].metrics.value(name) if columns else 0
        row = MetricRow(name=name, label=str(label))
        for index, column in enumerate(columns):
            value = column.metrics.value(name)
            delta = None if index == baseline else value - base
            row.cells.append(Cell(value=value, delta=delta, more_is_better=name in MORE_IS_BETTER))
        rows.append(row)
    return rows


def column_get(service, key: str) -> Column | None:
    """The column a compare key names: "2" (version 2) or "1:d07" (district d07's variant of
    version 1). None when the key is malformed or names nothing."""
    match = COLUMN_KEY.match(key or "")
    if not match:
        return None
    version = selectors.version_get(service.code, int(match[1]))
    if version is None:
        return None
    column = _version_column(version)
    if match[2] is None:
        return column
    variant = selectors.variant_get(version, match[2])
    return _variant_column(variant, column) if variant is not None else None


# --- the changes, for people ----------------------------------------------------------------


def show_value(value, *, language: str, roles: dict[str, str]) -> str:
    """A step attribute's value as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, Text):
        return value.get(language)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, int | float):
        return localize_digits(format_number(value))
    if isinstance(value, LegalBasis):
        return " ".join(part for part in (value.law, value.article) if part)
    if isinstance(value, list):
        if value and isinstance(value[0], Outcome):
            return ", ".join(
                f"{o.outcome} → {o.to}"
                + (" (" + _("if %(condition)s") % {"condition": o.when} + ")" if o.when else "")
                for o in value
            )
        return ", ".join(show_value(item, language=language, roles=roles) for item in value)
    return str(value)


@dataclass
class StepLine:
    """A step added or removed, described."""

    id: str
    title: str
    role: str
    days: float
    discretionary: bool
    signs: bool


@dataclass
class StepChange:
    id: str
    title: str
    changes: list[tuple[str, str, str]]  # (attribute label, old, new)


@dataclass
class StepChanges:
    added: list[StepLine]
    removed: list[StepLine]
    changed: list[StepChange]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


GATEWAY_TITLES = {
    "fork": gettext_lazy("Parallel branches start"),
    "join": gettext_lazy("Parallel branches meet"),
    "end": gettext_lazy("End"),
}


def step_title(step: Step, language: str) -> str:
    """The step's title; a gateway without one is named for what it does."""
    if step.title:
        return step.title.get(language)
    return str(GATEWAY_TITLES.get(step.kind, step.id))


def _line(step: Step, *, language: str, roles: dict[str, str]) -> StepLine:
    return StepLine(
        id=step.id,
        title=step_title(step, language),
        role=roles.get(step.role, step.role),
        days=float(step.deadline_days or 0),
        discretionary=step.discretionary,
        signs=step.signs,
    )


def role_names(
    definitions: list[Definition], city_roles: dict[str, Text], *, language: str
) -> dict[str, str]:
    """Role code → title in `language`, from the city's roles and the definitions' own."""
    titles = dict(city_roles)
    for definition in definitions:
        titles |= {role.code: role.title for role in definition.roles}
    return {code: title.get(language) for code, title in titles.items()}


def step_changes(diff: DefinitionDiff, *, language: str, roles: dict[str, str]) -> StepChanges:
    """The steps added, removed and changed between the diff's two definitions, described."""
    old = {s.id: s for s in diff.old.steps}
    new = {s.id: s for s in diff.new.steps}
    changed = []
    for step_id, changes in diff.steps.changed.items():
        step = new.get(step_id) or old[step_id]
        rows = []
        for change in changes:
            old_value, new_value = change.old, change.new
            if change.attribute == "role":
                old_value, new_value = roles.get(old_value, old_value), roles.get(new_value, new_value)
            rows.append(
                (
                    str(STEP_ATTRIBUTE_LABELS.get(change.attribute, change.attribute)),
                    show_value(old_value, language=language, roles=roles),
                    show_value(new_value, language=language, roles=roles),
                )
            )
        changed.append(
            StepChange(id=step_id, title=step.title.get(language) if step.title else step_id, changes=rows)
        )
    return StepChanges(
        added=[_line(new[i], language=language, roles=roles) for i in diff.steps.added if i in new],
        removed=[_line(old[i], language=language, roles=roles) for i in diff.steps.removed if i in old],
        changed=changed,
    )
