"""Fees as the public reads them: each fee's title and, in plain words, what its amount depends on
(the labels of the form fields its expression reads), and a server-side estimate from answers the
visitor types (portal.forms.FeeEstimateForm).

    fees_explained(definition, *, language) -> list[FeeExplained]
    estimate_questions(definition, fees) -> list[Field]
    fees_estimate(fees, values) -> Estimate
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from pishkhan.catalog.definition import Definition, Fee, Field
from pishkhan.catalog.expressions import ExpressionError, expression_evaluate, expression_names, fee_amount

# Field types the estimate form can ask about; a fee reading any other (a map point, a group of
# owners) is explained but not estimated.
ESTIMABLE_TYPES = ("number", "money", "choice", "boolean")


@dataclass
class FeeExplained:
    """One fee, explained."""

    fee: Fee
    title: str
    depends_on: list[str]  # labels of the fields the amount reads
    condition_on: list[str]  # labels of the fields the `when` condition reads
    step_title: str  # the payment step that collects it
    fixed_amount: int | None  # when the amount reads no field
    names: set[str] = field(default_factory=set)  # every field id it reads
    estimable: bool = False
    off_path: bool = False  # collected at a step only some cases reach (a violation fine, say)

    @property
    def conditional(self) -> bool:
        return bool(self.fee.when)


@dataclass
class FeeLine:
    """One fee in an estimate: charged or not for these answers, and how much."""

    title: str
    charged: bool
    amount: int = 0
    error: str = ""
    off_path: bool = False  # not counted: only some cases reach the step that collects it


@dataclass
class Estimate:
    lines: list[FeeLine]
    total: int
    left_out: list[str]  # titles of fees this form cannot estimate


def _names(source: str) -> set[str]:
    if not source:
        return set()
    try:
        return expression_names(source)
    except ExpressionError:  # validation refuses such a definition; the page still renders
        return set()


def fees_explained(
    definition: Definition, *, language: str, side_steps: set[str] | frozenset[str] = frozenset()
) -> list[FeeExplained]:
    """Every fee of `definition` with what it depends on, labels in `language`. `side_steps`: the
    ids of the steps off the main path (portal.diagram); a fee collected at one of them is paid
    only by the cases that go there, whatever its condition says."""
    fields = {f.id: f for f in definition.fields}
    steps = {s.id: s for s in definition.steps}

    def labels(names: set[str]) -> list[str]:
        # In the order of the form, so the words read like the application form.
        return [f.label.get(language) for f in definition.fields if f.id in names] + sorted(
            name for name in names if name not in fields
        )

    explained = []
    for fee in definition.fees:
        amount_names, when_names = _names(fee.amount), _names(fee.when)
        names = amount_names | when_names
        fixed = None
        if not amount_names:
            try:
                fixed = fee_amount(fee.amount, {})
            except ExpressionError:
                fixed = None
        step = steps.get(fee.step)
        explained.append(
            FeeExplained(
                fee=fee,
                title=fee.title.get(language),
                depends_on=labels(amount_names),
                condition_on=labels(when_names),
                step_title=step.title.get(language) if step and step.title else "",
                fixed_amount=fixed,
                names=names,
                off_path=fee.step in side_steps,
                estimable=all(name in fields and fields[name].type in ESTIMABLE_TYPES for name in names),
            )
        )
    return explained


def estimate_questions(definition: Definition, fees: list[FeeExplained]) -> list[Field]:
    """The form fields an estimate asks for, in the definition's order: those the estimable fees
    read. Empty when no fee depends on an answer (nothing to estimate)."""
    wanted = set().union(*(fee.names for fee in fees if fee.estimable)) if fees else set()
    return [f for f in definition.fields if f.id in wanted]


def fees_estimate(fees: list[FeeExplained], values: dict) -> Estimate:
    """Evaluate the estimable fees over `values` (field id → cleaned Python value). A fee whose
    condition is false is listed as not charged; one whose expression fails for these answers says
    so instead of failing the page."""
    lines, total = [], 0
    for fee in fees:
        if not fee.estimable:
            continue
        if fee.off_path:
            lines.append(FeeLine(title=fee.title, charged=False, off_path=True))
            continue
        try:
            if fee.fee.when and not expression_evaluate(fee.fee.when, values):
                lines.append(FeeLine(title=fee.title, charged=False))
                continue
            amount = fee_amount(fee.fee.amount, values)
        except ExpressionError:
            lines.append(
                FeeLine(
                    title=fee.title,
                    charged=True,
                    error=_("This fee cannot be worked out from these answers; the office will tell you."),
                )
            )
            continue
        total += amount
        lines.append(FeeLine(title=fee.title, charged=True, amount=amount))
    return Estimate(lines=lines, total=total, left_out=[fee.title for fee in fees if not fee.estimable])
