"""What must hold of every case, however it was made (the engine, the simulator, an import):

    case_invariants_check(*, case_ids=None) -> list[str]

Besides the hash chains (events.case_chains_verify) it replays each case's log against its state:
- the log starts with `submitted`, counts 1, 2, 3 … and never goes back in time;
- a closed case (approved, rejected, withdrawn) ends with `ended` or `withdrawn` at its
  `closed_at`, with that result, and has no open step; an open case has at least one;
- every open step is a step of the case's definition with that step's role, in the case's
  district, and open once (the engine keeps that under the case's lock; no unique index does,
  ADR 0013); the case waits for the applicant exactly when every open step does;
- a claimed step has an assignee, who claimed it (or was given it) in the last event about it;
- every step completed by a person was completed by someone who holds its role in the case's
  district or city-wide, the applicant, or an operator of the filing office;
- every payment is the step's fee for the case's answers, and no payment reference is used twice.

Each problem is one line starting with the case's tracking code. Reads in chunks; takes no lock.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict

from django.utils.translation import gettext as _

from pishkhan.accounts.models import RoleBinding
from pishkhan.core.hashchain import canonical_json
from pishkhan.offices.models import OfficeOperator

from .models import Case, CaseEvent, CaseStatus, Position, PositionState
from .selectors import case_definition, fees_for_step

CHUNK_CASES = 500
ENDINGS = {"ended", "withdrawn"}
DONE_BY_PEOPLE = {"completed", "returned"}
HOLDING = {"claimed", "reassigned", "released"}  # the events that say who holds a step


def case_invariants_check(*, case_ids=None) -> list[str]:
    """Check every case (or those of `case_ids`); an empty list means they all hold."""
    holders = _holders()
    operators = defaultdict(set)
    for office_id, user_id in OfficeOperator.objects.values_list("office_id", "user_id"):
        operators[office_id].add(user_id)
    cases = Case.objects.order_by("pk")
    if case_ids is not None:
        cases = cases.filter(pk__in=list(case_ids))
    problems: list[str] = []
    references: dict[str, str] = {}
    fees: dict[tuple, int] = {}
    ids = cases.values_list("pk", flat=True).iterator(chunk_size=CHUNK_CASES)
    for chunk in iter(lambda: list(itertools.islice(ids, CHUNK_CASES)), []):
        events = defaultdict(list)
        for event in CaseEvent.objects.filter(case_id__in=chunk).order_by("case_id", "seq"):
            events[event.case_id].append(event)
        positions = defaultdict(list)
        for position in Position.objects.filter(case_id__in=chunk):
            positions[position.case_id].append(position)
        for case in Case.objects.filter(pk__in=chunk).order_by("pk"):
            problems += [
                f"{case.tracking_code}: {problem}"
                for problem in _case_problems(
                    case, events[case.pk], positions[case.pk], holders, operators, references, fees
                )
            ]
    return problems


def _holders() -> dict[tuple[str, int | None], set[int]]:
    holders = defaultdict(set)
    for role, district_id, user_id in RoleBinding.objects.values_list("role__code", "district_id", "user_id"):
        holders[(role, district_id)].add(user_id)
    return holders


def _fee_due(definition, step_id: str, answers: dict, memo: dict) -> int:
    # Fees are CEL over the answers: worked out once per definition, step and answers.
    key = (id(definition), step_id, canonical_json(answers))
    if key not in memo:
        memo[key] = sum(a for _fee, a in fees_for_step(definition, step_id=step_id, answers=answers))
    return memo[key]


def _case_problems(case, events, positions, holders, operators, references, fees):
    if not events:
        yield _("it has no events")
        return
    if events[0].activity != "submitted":
        yield _("its log starts with “%(activity)s”, not “submitted”") % {"activity": events[0].activity}
    for before, after in itertools.pairwise(events):
        if after.completed_at < before.completed_at:
            yield _("event %(seq)s goes back in time") % {"seq": after.seq}
    last = events[-1]
    closed = case.status in CaseStatus.closed()
    if closed:
        if last.activity not in ENDINGS:
            yield _("it is closed but its log ends with “%(activity)s”") % {"activity": last.activity}
        elif (last.outcome or "withdrawn") != case.status:
            yield _("it is %(status)s but its log ends with %(result)s") % {
                "status": case.status,
                "result": last.outcome or last.activity,
            }
        if case.closed_at != last.completed_at:
            yield _("its closing time is not its last event's")
        if positions:
            yield _("it is closed but has open steps")
    elif not positions:
        yield _("it is open but has no open step")
    definition = case_definition(case)
    opened = Counter(position.step_id for position in positions)
    for step_id in sorted(step_id for step_id, times in opened.items() if times > 1):
        yield _("step “%(step)s” is open twice") % {"step": step_id}
    for position in positions:
        step = definition.step(position.step_id)
        if step is None:
            yield _("open step “%(step)s” is not in its definition") % {"step": position.step_id}
            continue
        if position.role != (step.role or "") or position.district_id != case.district_id:
            yield _("open step “%(step)s” is in the wrong queue") % {"step": position.step_id}
        if position.state == PositionState.CLAIMED:
            about = [e for e in events if e.step_id == position.step_id and e.activity in HOLDING]
            claim = about[-1] if about else None
            if (
                position.assignee_id is None
                or claim is None
                or claim.activity not in ("claimed", "reassigned")
                or (claim.data.get("to") if claim.activity == "reassigned" else claim.actor_id)
                != position.assignee_id
            ):
                yield _("step “%(step)s” is held by someone who did not claim it") % {
                    "step": position.step_id
                }
    if positions and not closed:
        waiting = all(p.state in (PositionState.WITH_CITIZEN, PositionState.WAITING_JOIN) for p in positions)
        waiting = waiting and any(p.state == PositionState.WITH_CITIZEN for p in positions)
        if waiting != (case.status == CaseStatus.WITH_CITIZEN):
            yield _("its status is %(status)s but its open steps say otherwise") % {"status": case.status}
    applicant_side = {case.applicant_id, case.filed_by_id} | operators.get(case.office_id, set())
    for event in events:
        if event.activity in DONE_BY_PEOPLE and event.actor_id is not None:
            role = event.actor_role
            allowed = holders.get((role, case.district_id), set()) | holders.get((role, None), set())
            if event.actor_id not in allowed and event.actor_id not in applicant_side:
                yield _("event %(seq)s was done by someone without the role “%(role)s” there") % {
                    "seq": event.seq,
                    "role": role,
                }
        if event.activity == "paid":
            reference = str(event.data.get("reference"))
            if references.setdefault(reference, case.tracking_code) != case.tracking_code:
                yield _("payment reference %(reference)s was used twice") % {"reference": reference}
            due = _fee_due(definition, event.step_id, case.answers, fees)
            if event.data.get("amount") != due:
                yield _("event %(seq)s paid %(paid)s, not the fee of %(due)s") % {
                    "seq": event.seq,
                    "paid": event.data.get("amount"),
                    "due": due,
                }
