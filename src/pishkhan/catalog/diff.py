"""What changed between two definitions, and how far a district variant departs from the standard.

    definition_diff(old, new) -> DefinitionDiff
    definition_diff_text(diff, *, language="en") -> str
    variant_departure(base, variant) -> Departure

Steps, documents, fields and fees are matched by id: a step renamed to a new id is one step removed
and one added, which is what it is for a clerk whose inbox names steps by id.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .definition import Definition, Outcome, Step, Text
from .metrics import METRIC_LABELS, Metrics, definition_metrics, metrics_delta

# Step attributes compared, in the order a change lists them.
STEP_ATTRIBUTES = (
    "title",
    "role",
    "kind",
    "deadline_days",
    "discretionary",
    "signature",
    "legal_basis",
    "outcomes",
    "branches",
    "join_of",
    "next",
    "result",
    "action",
    "output",
)
# Top-level attributes compared; steps, documents, fields and fees have their own lists.
DEFINITION_ATTRIBUTES = (
    "title",
    "description",
    "department",
    "category",
    "keywords",
    "legal_basis",
    "channels",
    "eligibility",
    "legal_deadline_days",
    "service_norm_days",
    "roles",
    "start",
    "outputs",
)


@dataclass(frozen=True)
class Change:
    """One attribute of one item that differs: its name and the old and new values."""

    attribute: str
    old: object
    new: object


@dataclass
class ItemChanges:
    """The items of one kind (steps, documents, fields or fees) added, removed and changed, by id."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[Change]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def summary(self) -> str:
        """`+added −removed ~changed`, e.g. `+1 −2 ~3`."""
        return f"+{len(self.added)} −{len(self.removed)} ~{len(self.changed)}"


@dataclass
class DefinitionDiff:
    """The difference between two definitions, usually two versions of one service, or a standard
    and its district variant. metrics_delta is new − old."""

    old: Definition = field(repr=False)
    new: Definition = field(repr=False)
    attributes: list[Change]
    steps: ItemChanges
    documents: ItemChanges
    fields: ItemChanges
    fees: ItemChanges
    old_metrics: Metrics
    new_metrics: Metrics
    metrics_delta: dict[str, float]

    @property
    def is_empty(self) -> bool:
        """True when the two definitions say the same (metrics then cannot differ either)."""
        return not (self.attributes or self.steps or self.documents or self.fields or self.fees)


@dataclass(frozen=True)
class Departure:
    """How far a district variant departs from the standard definition it patches.

    score (0–100): the variant's added, removed and changed work steps as a share of the
    standard's work steps, in percent, capped at 100. 0 means the district runs the standard; 10
    means one step in ten is different; a variant that adds as many steps as the standard has
    scores 100. Gateways and end steps are left out of both counts: a changed route shows up on the
    work steps whose outcomes changed."""

    steps_added: int
    steps_removed: int
    steps_changed: int
    metrics_delta: dict[str, float]
    score: float


def definition_diff(old: Definition, new: Definition) -> DefinitionDiff:
    """Compare two definitions item by item (see the module docstring). Version numbers and status
    are not compared: they say which definition it is, not what it says."""
    old_metrics, new_metrics = definition_metrics(old), definition_metrics(new)
    return DefinitionDiff(
        old=old,
        new=new,
        attributes=_changes(old, new, DEFINITION_ATTRIBUTES),
        steps=_items(old.steps, new.steps, STEP_ATTRIBUTES),
        documents=_items(old.documents, new.documents),
        fields=_items(old.fields, new.fields),
        fees=_items(old.fees, new.fees),
        old_metrics=old_metrics,
        new_metrics=new_metrics,
        metrics_delta=metrics_delta(old_metrics, new_metrics),
    )


def variant_departure(base: Definition, variant: Definition) -> Departure:
    """Measure a variant (the standard with the district's patch applied) against the standard."""
    diff = definition_diff(base, variant)
    old_work = {s.id for s in base.work_steps}
    new_work = {s.id for s in variant.work_steps}
    added = sum(1 for step_id in diff.steps.added if step_id in new_work)
    removed = sum(1 for step_id in diff.steps.removed if step_id in old_work)
    changed = sum(1 for step_id in diff.steps.changed if step_id in old_work or step_id in new_work)
    score = 100.0 * (added + removed + changed) / len(old_work) if old_work else 0.0
    if not old_work and (added or removed or changed):
        score = 100.0
    return Departure(
        steps_added=added,
        steps_removed=removed,
        steps_changed=changed,
        metrics_delta=diff.metrics_delta,
        score=round(min(score, 100.0), 1),
    )


def definition_diff_text(diff: DefinitionDiff, *, language: str = "en") -> str:
    """The diff as lines a person reads in a terminal: a summary line per item kind, then each item
    (`+` added, `-` removed, `~` changed with `attribute: old → new`), then the metrics that moved.
    Titles are shown in `language` (Persian when the English one is missing)."""
    lines: list[str] = []
    if diff.is_empty:
        lines.append("no differences")
    for change in diff.attributes:
        lines.append(f"~ {_show_change(change, language)}")
    sections = (
        ("steps", diff.steps, {s.id: s for s in [*diff.old.steps, *diff.new.steps]}),
        ("documents", diff.documents, {d.id: d for d in [*diff.old.documents, *diff.new.documents]}),
        ("fields", diff.fields, {f.id: f for f in [*diff.old.fields, *diff.new.fields]}),
        ("fees", diff.fees, {f.id: f for f in [*diff.old.fees, *diff.new.fees]}),
    )
    for name, items, by_id in sections:
        if not items:
            continue
        lines.append(f"{name}: {items.summary()}")
        for item_id in items.added:
            lines.append(f"  + {item_id}{_describe(by_id[item_id], language)}")
        for item_id in items.removed:
            lines.append(f"  - {item_id}{_describe(by_id[item_id], language)}")
        for item_id, changes in items.changed.items():
            shown = "; ".join(_show_change(c, language) for c in changes)
            lines.append(f"  ~ {item_id}: {shown}")
    moved = [(name, delta) for name, delta in diff.metrics_delta.items() if delta]
    if moved:
        lines.append("metrics:")
        for name, delta in moved:
            old, new = diff.old_metrics.value(name), diff.new_metrics.value(name)
            lines.append(
                f"  {METRIC_LABELS[name]}: {format_number(old)} → {format_number(new)} ({signed(delta)})"
            )
    return "\n".join(lines)


def format_number(value: float) -> str:
    """7.0 → `7`, 7.5 → `7.5`: deadlines are mostly whole days."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def signed(value: float) -> str:
    """A delta with its sign: `+3`, `-2.5`, `0`."""
    return f"+{format_number(value)}" if value > 0 else format_number(value)


# --- helpers ----------------------------------------------------------------------------------


def _items(old: list, new: list, attributes: tuple[str, ...] | None = None) -> ItemChanges:
    old_by_id = {item.id: item for item in old}
    new_by_id = {item.id: item for item in new}
    result = ItemChanges(
        added=[item.id for item in new if item.id not in old_by_id],
        removed=[item.id for item in old if item.id not in new_by_id],
    )
    for item in new:
        before = old_by_id.get(item.id)
        if before is None or before == item:
            continue
        names = attributes or tuple(f.name for f in dataclasses.fields(item) if f.name != "id")
        result.changed[item.id] = _changes(before, item, names)
    return result


def _changes(old, new, names: tuple[str, ...]) -> list[Change]:
    return [
        Change(name, getattr(old, name), getattr(new, name))
        for name in names
        if getattr(old, name) != getattr(new, name)
    ]


def _describe(item, language: str) -> str:
    title = getattr(item, "title", None) or getattr(item, "label", None)
    text = f"  {title.get(language)}" if isinstance(title, Text) else ""
    if isinstance(item, Step) and item.is_work:
        flags = [item.role, item.kind, f"{format_number(item.deadline_days)} d"]
        flags += ["discretionary"] if item.discretionary else []
        text += f" ({', '.join(flags)})"
    return text


# Longer values (descriptions, long legal bases) are cut: the line says what changed, the export
# shows the whole text.
SHOWN_CHARACTERS = 80


def _show_change(change: Change, language: str) -> str:
    old, new = change.old, change.new
    if _keyed_list(old) and _keyed_list(new):
        # Roles, outputs: say which were added, removed or changed rather than print both lists.
        old_by = {_key(item): item for item in old}
        new_by = {_key(item): item for item in new}
        parts = [f"+{key}" for key in new_by if key not in old_by]
        parts += [f"-{key}" for key in old_by if key not in new_by]
        parts += [f"~{key}" for key in new_by if key in old_by and old_by[key] != new_by[key]]
        return f"{change.attribute}: {' '.join(parts) or 'reordered'}"
    return f"{change.attribute}: {_cut(_show(old, language))} → {_cut(_show(new, language))}"


def _keyed_list(value) -> bool:
    return isinstance(value, list) and bool(value) and all(_key(item) is not None for item in value)


def _key(item) -> str | None:
    return getattr(item, "code", None) or getattr(item, "id", None)


def _cut(text: str) -> str:
    return text if len(text) <= SHOWN_CHARACTERS else text[: SHOWN_CHARACTERS - 1] + "…"


def _show(value, language: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, Text):
        return value.get(language)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, list):
        if value and isinstance(value[0], Outcome):
            return ", ".join(f"{o.outcome}→{o.to}" + (f" if {o.when}" if o.when else "") for o in value)
        return ", ".join(_show(item, language) for item in value)
    if hasattr(value, "to_dict"):
        return ", ".join(str(v) for v in value.to_dict().values())
    if hasattr(value, "code"):
        return value.code
    if hasattr(value, "id"):
        return value.id
    return str(value)
