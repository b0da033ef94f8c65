"""Reform metrics of a process definition (docs/process-format.md, "Reform metrics").

These are the numbers the reform is judged by: the building permit's ~129 steps and 360+ days
against the redesign's < 70 steps and two months, the discretionary steps and golden signatures
removed. They are computed from the definition alone, never from cases, so a draft can be measured
before anyone runs it.

    definition_metrics(definition) -> Metrics
    longest_path_days(definition) -> float
    metrics_delta(old, new) -> dict[str, float]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from .definition import Definition, Step

# The comparable metrics, in the order tables print them, with their row labels.
METRIC_LABELS = {
    "steps": _("Steps"),
    "discretionary": _("Discretionary steps"),
    "signatures": _("Signatures"),
    "handoffs": _("Hand-offs between roles"),
    "documents": _("Documents asked"),
    "longest_path_days": _("Longest path (working days)"),
    "automatic_steps": _("Automatic steps"),
}


@dataclass(frozen=True)
class Metrics:
    """The reform metrics of one definition. roles_used and automatic_steps are for information;
    the other six are what the format's "Reform metrics" section defines."""

    steps: int
    discretionary: int
    signatures: int
    handoffs: int
    documents: int
    longest_path_days: float
    automatic_steps: int = 0
    roles_used: tuple[str, ...] = field(default=())

    def value(self, name: str) -> float:
        """The metric called `name` (a key of METRIC_LABELS)."""
        return getattr(self, name)


def definition_metrics(definition: Definition) -> Metrics:
    """Measure a definition. It need not be valid: outcomes that name missing steps are ignored, and
    loops of forward outcomes are cut as longest_path_days explains."""
    work = definition.work_steps
    return Metrics(
        steps=len(work),
        discretionary=sum(1 for s in work if s.discretionary),
        signatures=sum(1 for s in work if s.signs),
        handoffs=handoff_count(definition),
        documents=len(definition.documents),
        longest_path_days=longest_path_days(definition),
        automatic_steps=sum(1 for s in work if s.kind == "automatic"),
        roles_used=tuple(sorted({s.role for s in work if s.role})),
    )


def metrics_delta(old: Metrics, new: Metrics) -> dict[str, float]:
    """new − old for every metric of METRIC_LABELS (negative: the new one has fewer)."""
    return {name: new.value(name) - old.value(name) for name in METRIC_LABELS}


def next_work_steps(definition: Definition, step: Step) -> set[str]:
    """The work steps a case reaches from `step` by one forward transition, looking through fork and
    join gateways (a gateway is not a desk: the hand-off is from the step before it to the step
    after it). End steps are not work steps and are left out."""
    steps = {s.id: s for s in definition.steps}
    found: set[str] = set()
    seen_gateways: set[str] = set()
    pending = list(step.successors(forward_only=True))
    while pending:
        target = steps.get(pending.pop())
        if target is None:
            continue
        if target.is_work:
            found.add(target.id)
        elif target.kind in ("fork", "join") and target.id not in seen_gateways:
            # A gateway loop (only possible in an invalid definition) must not spin forever.
            seen_gateways.add(target.id)
            pending.extend(target.successors(forward_only=True))
    return found


def handoff_count(definition: Definition) -> int:
    """Forward transitions between two work steps held by different roles. Two outcomes of one step
    that lead to the same next step are one hand-off: the case changes desks once."""
    steps = {s.id: s for s in definition.steps}
    count = 0
    for step in definition.work_steps:
        for target_id in next_work_steps(definition, step):
            if steps[target_id].role != step.role:
                count += 1
    return count


def longest_path_days(definition: Definition) -> float:
    """The largest sum of `deadline_days` of the work steps along a forward path from `start` to an
    end step: how long the process may take if every step uses its full deadline.

    Forward edges are Step.successors(forward_only=True): outcomes approve, done and refer, fork
    branches and a join's next; return and reject are never followed. Parallel branches need no
    special case: the longest path through a fork goes through its slowest branch, which is what
    a join waiting for all its branches takes.

    A `refer` may point back to an earlier step, which would make the graph cyclic and the longest
    path infinite. A depth-first walk from `start` marks every edge that leads to a step still on
    the walk's stack (a back edge) and the path ignores those: being sent back repeats work already
    counted, it does not add a new stage. Which edge of a loop counts as "back" follows the order
    the definition lists outcomes in, so the result is deterministic.

    Steps not reachable from `start` are not measured. If no end step is reachable (an unfinished
    draft), the longest forward path from `start` to wherever it stops is returned instead, so a
    draft still gets a number. 0 when there is no start step."""
    steps = {s.id: s for s in definition.steps}
    if definition.start not in steps:
        return 0.0

    def forward(step_id: str) -> list[str]:
        return [t for t in steps[step_id].successors(forward_only=True) if t in steps]

    # Iterative DFS (no recursion limit on imported processes of hundreds of steps). `order` is the
    # post-order: for every edge that is not a back edge, its target finishes before its source.
    on_stack: set[str] = set()
    finished: set[str] = set()
    back_edges: set[tuple[str, str]] = set()
    order: list[str] = []
    stack: list[tuple[str, list[str]]] = [(definition.start, forward(definition.start))]
    on_stack.add(definition.start)
    while stack:
        node, remaining = stack[-1]
        if remaining:
            target = remaining.pop(0)
            if target in on_stack:
                back_edges.add((node, target))
            elif target not in finished:
                on_stack.add(target)
                stack.append((target, forward(target)))
            continue
        stack.pop()
        on_stack.discard(node)
        finished.add(node)
        order.append(node)

    to_end: dict[str, float | None] = {}  # longest days to an end step; None: no end reachable
    anywhere: dict[str, float] = {}  # longest days to wherever forward edges stop
    for node in order:
        own = float(steps[node].deadline_days or 0) if steps[node].is_work else 0.0
        targets = [t for t in forward(node) if (node, t) not in back_edges]
        tails = [to_end[t] for t in targets if to_end[t] is not None]
        if steps[node].kind == "end":
            to_end[node] = own
        else:
            to_end[node] = own + max(tails) if tails else None
        anywhere[node] = own + max((anywhere[t] for t in targets), default=0.0)
    result = to_end[definition.start]
    return float(result if result is not None else anywhere[definition.start])
