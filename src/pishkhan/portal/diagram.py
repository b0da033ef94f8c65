"""The steps of a process as the public sees them: the main path in order, parallel branches side by
side, the steps only some cases go through, and — for a long process — the path cut into stages.

    service_flow(definition, *, language, role_titles) -> Flow

The main path follows, from `start`, each step's first unconditional forward outcome (approve, done,
refer): the way a case goes when nothing special happens. A fork shows its branches side by side
until their join. Work steps off that path (a violation hearing, a commission referral) are listed
apart as `side` steps, so nothing — discretionary steps least of all — is hidden from the public.

A long process (more than COLLAPSE_AFTER work steps) is cut into stages, each ending at a step
where the citizen acts (a payment, a citizen step): what the municipality does before it next asks
something of you. Stages longer than STAGE_MAX steps are cut again, so none is a wall of text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pishkhan.catalog.definition import FORWARD_OUTCOMES, Definition, Step, Text

# Up to this many work steps, the diagram is shown whole; beyond it, in stages the reader opens.
COLLAPSE_AFTER = 15
STAGE_MAX = 20
STAGE_MIN = 4
CITIZEN_KINDS = ("payment", "citizen")


@dataclass
class Box:
    """One work step in the diagram."""

    number: int  # 1-based, in the order the diagram shows the steps
    id: str
    title: str
    role: str  # the role's title in the page's language
    kind: str
    days: float
    discretionary: bool
    signs: bool
    legal_basis: str  # law and article, "" when the step cites none

    @property
    def citizen(self) -> bool:
        """True when the citizen (not the municipality) acts here: paying, answering, signing."""
        return self.kind in CITIZEN_KINDS

    @property
    def is_parallel(self) -> bool:
        return False

    def boxes(self) -> list[Box]:
        return [self]


@dataclass
class Parallel:
    """A fork: branches that run at the same time; the case moves on when all are done."""

    branches: list[list[Box | Parallel]]

    @property
    def is_parallel(self) -> bool:
        return True

    @property
    def days(self) -> float:
        """The slowest branch: the join waits for it."""
        return max((_days(branch) for branch in self.branches), default=0.0)

    def boxes(self) -> list[Box]:
        return [box for branch in self.branches for item in branch for box in item.boxes()]


@dataclass
class Stage:
    """A run of the main path, ending (when it does) at a step where the citizen acts."""

    number: int
    items: list[Box | Parallel]

    @property
    def boxes(self) -> list[Box]:
        return [box for item in self.items for box in item.boxes()]

    @property
    def steps(self) -> int:
        return len(self.boxes)

    @property
    def days(self) -> float:
        return _days(self.items)

    @property
    def discretionary(self) -> int:
        return sum(1 for box in self.boxes if box.discretionary)

    @property
    def signatures(self) -> int:
        return sum(1 for box in self.boxes if box.signs)

    @property
    def first(self) -> Box | None:
        return self.boxes[0] if self.boxes else None

    @property
    def last(self) -> Box | None:
        return self.boxes[-1] if self.boxes else None

    @property
    def citizen_step(self) -> Box | None:
        """The citizen's step that closes the stage, if it ends with one."""
        last = self.items[-1] if self.items else None
        return last if isinstance(last, Box) and last.citizen else None


@dataclass
class Flow:
    """What the service page draws."""

    items: list[Box | Parallel]  # the main path
    side: list[Box]  # work steps off the main path
    result: str  # the title of the end step the main path reaches, "" if none
    stages: list[Stage] = field(default_factory=list)  # empty when the process is short

    @property
    def boxes(self) -> list[Box]:
        return [box for item in self.items for box in item.boxes()]

    @property
    def step_count(self) -> int:
        return len(self.boxes) + len(self.side)

    @property
    def discretionary(self) -> int:
        return sum(1 for box in [*self.boxes, *self.side] if box.discretionary)

    @property
    def collapsed(self) -> bool:
        return bool(self.stages)


def service_flow(definition: Definition, *, language: str, role_titles: dict[str, Text]) -> Flow:
    """The diagram of a definition (see the module docstring). `role_titles`: role code → title, for
    the roles the city has; the definition's own `roles:` take precedence. Never raises on an odd
    definition (a draft with a dangling outcome): a path that leads nowhere simply stops."""
    titles = dict(role_titles) | {role.code: role.title for role in definition.roles}
    walker = _Walker(definition, language=language, titles=titles)
    items, result = walker.walk(definition.start)
    side = [walker.box(step) for step in definition.work_steps if step.id not in walker.seen]
    flow = Flow(items=items, side=side, result=result.title.get(language) if result and result.title else "")
    if len(flow.boxes) > COLLAPSE_AFTER:
        flow.stages = _stages(items)
    return flow


class _Walker:
    def __init__(self, definition: Definition, *, language: str, titles: dict[str, Text]):
        self.steps = {step.id: step for step in definition.steps}
        self.language = language
        self.titles = titles
        self.seen: set[str] = set()
        self.count = 0

    def box(self, step: Step) -> Box:
        self.count += 1
        role = self.titles.get(step.role)
        legal = step.legal_basis
        return Box(
            number=self.count,
            id=step.id,
            title=step.title.get(self.language) if step.title else step.id,
            role=role.get(self.language) if role else step.role,
            kind=step.kind,
            days=float(step.deadline_days or 0),
            discretionary=step.discretionary,
            signs=step.signs,
            legal_basis=" ".join(part for part in (legal.law, legal.article) if part) if legal else "",
        )

    def walk(self, step_id: str) -> tuple[list[Box | Parallel], Step | None]:
        """The items from `step_id` to an end step (returned second) or a join (left unvisited, for
        the fork that owns it), or until the path leads nowhere new."""
        items: list[Box | Parallel] = []
        current: str | None = step_id
        while current:
            step = self.steps.get(current)
            if step is None or current in self.seen or step.kind == "join":
                return items, None
            self.seen.add(current)
            if step.kind == "end":
                return items, step
            if step.kind == "fork":
                branches = [self.walk(branch)[0] for branch in step.branches if branch not in self.seen]
                items.append(Parallel(branches=[branch for branch in branches if branch]))
                join = next(
                    (s for s in self.steps.values() if s.kind == "join" and s.join_of == step.id), None
                )
                if join is None or join.id in self.seen:
                    return items, None
                self.seen.add(join.id)
                current = join.next
                continue
            items.append(self.box(step))
            current = _main_successor(step)
        return items, None


def _main_successor(step: Step) -> str | None:
    """Where a case goes next when nothing special happens: the first forward outcome without a
    condition (approve and done before refer), else the first conditional one."""
    forward = [o for o in step.outcomes if o.outcome in FORWARD_OUTCOMES]
    for wanted in (("approve", "done"), ("refer",)):
        for outcome in forward:
            if outcome.outcome in wanted and not outcome.when:
                return outcome.to
    return forward[0].to if forward else None


def _days(items: list[Box | Parallel]) -> float:
    return sum(item.days for item in items)


def _size(items: list[Box | Parallel]) -> int:
    return sum(len(item.boxes()) for item in items)


def _stages(items: list[Box | Parallel]) -> list[Stage]:
    """Cut the main path after each citizen step; a run shorter than STAGE_MIN steps joins the one
    before it (the first stage, filing and paying, may stay short), and a run longer than STAGE_MAX
    steps is cut into even parts (a parallel block is never cut)."""
    runs: list[list[Box | Parallel]] = [[]]
    for item in items:
        runs[-1].append(item)
        if isinstance(item, Box) and item.citizen:
            runs.append([])
    merged: list[list[Box | Parallel]] = []
    for run in (run for run in runs if run):
        # Two payments in a row would make a stage of one step: a short run joins the one before.
        if merged and _size(run) < STAGE_MIN:
            merged[-1].extend(run)
        else:
            merged.append(run)
    cut: list[list[Box | Parallel]] = []
    for run in merged:
        size = _size(run)
        parts = -(-size // STAGE_MAX)  # ceiling
        if parts <= 1:
            cut.append(run)
            continue
        target = -(-size // parts)
        pieces: list[list[Box | Parallel]] = []
        part: list[Box | Parallel] = []
        for item in run:
            if part and (_size(part) >= target or _size(part) + len(item.boxes()) > STAGE_MAX):
                pieces.append(part)
                part = []
            part.append(item)
        if part and _size(part) < STAGE_MIN and pieces:
            pieces[-1].extend(part)
        elif part:
            pieces.append(part)
        cut.extend(pieces)
    return [Stage(number=index, items=run) for index, run in enumerate(cut, start=1)]
