"""Writes to cases: the named functions every view, endpoint, command and task goes through.

    case_submit(*, service, applicant, filed_by, answers, channel, district=None, office=None,
                idempotency_key=None, now=None) -> Case
    case_advance(*, case, step_id, outcome, actor, reason="", request=None, evidence=None,
                 now=None) -> CaseEvent
    case_office_intake(*, case, operator, now=None) -> list[CaseEvent]
    case_answer(*, case, actor, message="", now=None) -> CaseEvent
    case_claim(*, position, actor, now=None) -> CaseEvent
    case_release(*, position, actor, now=None) -> CaseEvent
    case_reassign(*, position, to, by, reason, now=None) -> CaseEvent
    case_withdraw(*, case, actor, reason="", now=None) -> CaseEvent
    case_payment_confirmed(*, case, step_id, amount, reference, now=None) -> CaseEvent
    case_run_automatic(*, case_id, step_id, now=None) -> CaseEvent | None

Each runs in one transaction: it locks the case row (`FOR UPDATE`; cases.store.case_lock)
before reading the case's positions — which is what keeps two clerks acting on one step at once
from both winning: the second waits for the lock, then finds the step gone and is refused as
`stale` — appends one event (and `ended` when the case closes), moves the positions, and
queues background work for after commit. A refusal raises CaseError (code, translated message,
HTTP status) and changes nothing. The `case` or `position` passed in may be stale; the function
reads its own under the lock, and copies the case's new state back onto the instance passed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import json
import logging
import operator

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from pishkhan.accounts.models import District, RoleBinding, UserKind
from pishkhan.catalog.definition import Definition, Outcome, Step
from pishkhan.catalog.expressions import ExpressionError, expression_evaluate
from pishkhan.catalog.selectors import variant_get, version_current, version_definition, version_for_district
from pishkhan.core.calendar import local_date, working_calendar
from pishkhan.core.hashchain import GENESIS, canonical_json
from pishkhan.core.text import localize_digits
from pishkhan.offices.models import Office, OfficeOperator, OfficeStatus

from .answers import answers_validate
from .errors import CaseError
from .events import event_append
from .models import Case, CaseDocument, CaseEvent, CaseStatus, Channel, Position, PositionState, SubmissionKey
from .positions import OFFICE_ROLE, Move
from .selectors import MANAGER_ROLE, answers_scope, case_definition, case_definition_of, fees_for_step
from .store import LockedRow, act_cursor, case_lock, payment_reference_used, positions_write
from .tracking import tracking_code_new

__all__ = [
    "CaseError",
    "case_advance",
    "case_answer",
    "case_claim",
    "case_office_intake",
    "case_payment_confirmed",
    "case_reassign",
    "case_release",
    "case_run_automatic",
    "case_submit",
    "case_withdraw",
]

logger = logging.getLogger(__name__)

# Events the applicant hears about (notifications.services.notify_case_event).
NOTIFIED_ACTIVITIES = frozenset({"submitted", "returned", "ended"})
TRACKING_CODE_ATTEMPTS = 5
MAX_KEY_LENGTH = SubmissionKey._meta.get_field("key").max_length
MAX_REFERENCE_LENGTH = 100
MAX_DUE_DAYS = 90
# What _sync copies: the plain values as they are, the foreign keys' ids through setattr.
_CASE_KEYS = tuple(f.attname for f in Case._meta.concrete_fields if f.is_relation)
_CASE_VALUES = tuple(f.attname for f in Case._meta.concrete_fields if not f.is_relation)
_case_values = operator.itemgetter(*_CASE_VALUES)


# --- submitting -------------------------------------------------------------------------------


def case_submit(
    *,
    service,
    applicant,
    filed_by,
    answers,
    channel: str,
    district: District | None = None,
    office: Office | None = None,
    idempotency_key: str | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """File a new case for `applicant` (a citizen) and return it.

    channel `online`: filed by the applicant themselves. `office`: filed by an operator of an
    e-service office that is active and whose licence has not expired (`office` defaults to the
    operator's; another office is refused). `counter`: filed by municipal staff. The service's
    definition must offer the channel.

    The case starts on the service's current published version, in `district` — or, when none is
    given, the district the answers name (a field with id `district` holding a district code,
    else a `map_point` answer inside a district's boundary), else the filing office's district —
    with that district's variant. Answers are validated (CaseError `invalid_answers` with
    `field_errors`). The case gets a fresh tracking code, its deadline, event `submitted` (with
    the gateways passed and steps entered in its data) and its first positions; the applicant is
    notified in the same transaction. An office's operator then confirms the intake check
    (case_office_intake) once the documents are attached.

    idempotency_key: the Idempotency-Key header or an HTML form's one-time token. The same key
    from the same `filed_by` with the same request gives back the case it made (no new event);
    with a different request it is refused (409 `idempotency_conflict`). Two requests racing with
    one key make one case: the key's unique row is written first, so the second waits on it."""
    now = now or timezone.now()
    office = _check_filing(applicant=applicant, filed_by=filed_by, channel=channel, office=office, now=now)
    request_hash = _request_hash(
        service=service,
        applicant=applicant,
        channel=channel,
        district=district,
        office=office,
        answers=answers,
    )
    key = _clean_key(idempotency_key)
    if key is not None:
        previous = _previous_submission(filed_by=filed_by, key=key, request_hash=request_hash)
        if previous is not None:
            return previous

    version = version_current(service)
    if version is None:
        raise CaseError(
            "not_offered",
            _("“%(service)s” takes no requests at the moment.") % {"service": _service_title(service)},
            409,
        )
    standard = version_definition(version)
    if channel not in standard.channels:
        raise CaseError(
            "channel_not_offered",
            _("“%(service)s” cannot be requested this way (%(channel)s).")
            % {"service": standard.title.get(_lang()), "channel": Channel(channel).label},
        )
    # Variants patch steps, never fields: the standard definition's form is the district's too.
    cleaned, errors = answers_validate(standard, answers)
    if errors:
        raise CaseError(
            "invalid_answers", _("Some answers need correcting; see the messages by each field."), 400, errors
        )
    district = district or _district_from(standard, cleaned, office=office)
    found = version_for_district(service, district)
    if found is None:  # retired between the two reads
        raise CaseError(
            "not_offered",
            _("“%(service)s” takes no requests at the moment.") % {"service": _service_title(service)},
            409,
        )
    version, definition = found
    variant = variant_get(version, district)

    with transaction.atomic():
        key_row = None
        if key is not None:
            key_row, previous = _claim_key(filed_by=filed_by, key=key, request_hash=request_hash)
            if previous is not None:
                return previous
        case = Case.objects.create(
            tracking_code=_unused_tracking_code(),
            service=service,
            version=version,
            variant=variant,
            district=district,
            applicant=applicant,
            filed_by=filed_by,
            office=office,
            channel=channel,
            answers=cleaned,
            status=CaseStatus.OPEN,
            submitted_at=now,
            event_seq=0,
            event_hash=GENESIS,
        )
        move = Move(case=case, definition=definition, calendar=working_calendar(), now=now, positions=[])
        move.enter(definition.start)
        settled = move.settle()
        event = event_append(
            case=case,
            case_fields=settled,
            activity="submitted",
            actor=filed_by,
            office=office,
            completed_at=now,
            data={
                "channel": channel,
                "applicant": applicant.pk,
                "version": version.number,
                "variant": district.code if variant else None,
                **move.data(),
            },
        )
        _notify(case, event)
        _close_if_ended(move)
        if key_row is not None:
            SubmissionKey.objects.filter(pk=key_row.pk).update(case=case)
        move.schedule_automatic()
    return case


def case_office_intake(*, case: Case, operator, now: dt.datetime | None = None) -> list[CaseEvent]:
    """The filing office's operator confirms the file they checked at the counter (its documents
    attached): every step of `case` queued for the office role (`eservice_office`: file_request,
    file_case …) is completed with `approve` by them, through case_advance — one `completed`
    event each. Returns the events; none when no such step is open (a form sent twice)."""
    now = now or timezone.now()
    waiting = Position.objects.filter(case=case, role=OFFICE_ROLE, state=PositionState.QUEUED)
    return [
        case_advance(case=case, step_id=step_id, outcome="approve", actor=operator, now=now)
        for step_id in sorted(waiting.values_list("step_id", flat=True))
    ]


# --- moving a step ----------------------------------------------------------------------------


def case_advance(
    *,
    case: Case,
    step_id: str,
    outcome: str,
    actor,
    reason: str = "",
    request: dict | None = None,
    evidence: dict | None = None,
    now: dt.datetime | None = None,
) -> CaseEvent:
    """Complete the open step `step_id` of `case` with `outcome`, as `actor`; return the event.

    The actor must be bound to the step's role in the case's district (or city-wide), or be the
    step's assignee; a claimed step only its assignee may complete (409 `claimed`). A citizen
    step is completed by the applicant or the filing office; payment steps by
    case_payment_confirmed; a step waiting for the applicant's correction by case_answer.

    The outcome must be one the step allows (400 `unknown_outcome`, listing them); when several
    of that kind carry `when` conditions, the first that holds for the answers routes. `reject`
    needs a reason (400 `reason_required`). `return` needs `request` = {"missing": [document ids
    of the definition], "message": text, "due_days": working days ≥ 1} (400 `invalid_request`):
    the return's target step waits with the applicant holding the request, and the case's clock
    stops. Event `completed` (or `returned`) with the outcome, actor, the step's role, the
    actor's office (operators), the step's assigned and started times and the reason; `ended`
    follows when the case reached an end. `evidence` (JSON-able, e.g. an inspection's location
    and findings, a signature's digest) is kept as the event's data["evidence"].

    Refused: a step this case does not define (404 `unknown_step`); one not open now — done by
    someone else meanwhile, or a stale page (409 `stale`); a closed case (409 `closed`)."""
    now = now or timezone.now()
    _require_user(actor)
    with transaction.atomic(), act_cursor() as cursor:
        row = _lock_row(case, cursor=cursor, actor=actor)
        locked = row.case
        # The move runs in memory and its rows are written at once after it (cases.store); a
        # return writes its own, since it notes the documents uploaded so far.
        in_memory = outcome != "return"
        definition, move = _locked_move(row, now=now, persist=not in_memory)
        step = _work_step(definition, step_id)
        position = _open_position(move, step_id)
        _require_may_act(
            actor, position=position, step=step, case=locked, bound=position.role in row.bound_roles
        )
        route = _route(step, outcome, definition=definition, case=locked)
        reason = (reason or "").strip()
        if outcome == "reject" and not reason:
            raise CaseError(
                "reason_required", _("Give the reason for rejecting the request; the applicant reads it.")
            )
        assigned_at, started_at = position.assigned_at, position.started_at or now
        data = {"evidence": evidence} if evidence else {}
        if outcome == "return":
            cleaned_request = _clean_request(request, definition)
            move.return_to_applicant(position, target=route.to, request=cleaned_request)
            activity = "returned"
            reason = reason or cleaned_request["message"]
            data["request"] = cleaned_request
        else:
            move.follow(position, route)
            activity = "completed"
        settled = move.settle()
        office = _office_of(actor)  # a query of its own, so before the batch
        # The rows and the event in one round trip where the database allows (cases.store).
        with cursor.batch():
            if in_memory:
                positions_write(cursor, before=row.before, positions=move.positions.values())
            event = event_append(
                case=locked,
                case_fields=row.case_changed(settled),
                activity=activity,
                step_id=step_id,
                outcome=outcome,
                actor=actor,
                actor_role=step.role,
                office=office,
                assigned_at=assigned_at,
                started_at=started_at,
                completed_at=now,
                reason=reason,
                data={**data, **move.data()},
                cursor=cursor,
            )
        _notify(locked, event)
        _close_if_ended(move)
        move.schedule_automatic()
    _sync(case, locked)
    return event


def case_answer(*, case: Case, actor, message: str = "", now: dt.datetime | None = None) -> CaseEvent:
    """The applicant (or an operator of the office that filed the case) answers the correction
    request(s) of `case`: each step waiting for a correction goes back to its role's queue with a
    fresh step deadline, the clock starts again, and the case's deadline moves on by the working
    days it stood still. Upload the missing documents first (cases.documents.document_upload):
    a request whose documents were not all uploaded since it was made is refused (400
    `documents_missing`, by document id). Event `answered` with the message as its reason.
    Refused when nothing waits for a correction (409 `nothing_to_answer`)."""
    now = now or timezone.now()
    _require_user(actor)
    with transaction.atomic():
        locked = _lock(case)
        _require_open(locked)
        if not _acts_for_applicant(actor, locked):
            raise CaseError(
                "forbidden", _("Only the applicant, or the office that filed it, can answer."), 403
            )
        definition = case_definition(locked)
        move = Move(case=locked, definition=definition, calendar=working_calendar(), now=now)
        waiting = [p for p in move.positions.values() if p.state == PositionState.WITH_CITIZEN and p.request]
        if not waiting:
            raise CaseError("nothing_to_answer", _("Nothing in this case waits for your correction."), 409)
        missing = _documents_still_missing(locked, waiting, definition)
        if missing:
            raise CaseError(
                "documents_missing", _("Upload the documents asked for, then answer."), 400, missing
            )
        for position in sorted(waiting, key=lambda p: p.step_id):
            move.back_to_queue(position)
        settled = move.settle()
        steps = sorted(p.step_id for p in waiting)
        event = event_append(
            case=locked,
            case_fields=settled,
            activity="answered",
            step_id=steps[0] if len(steps) == 1 else "",
            actor=actor,
            office=_office_of(actor),
            completed_at=now,
            reason=(message or "").strip(),
            data={"steps": steps, "suspended_working_days": move.resumed_days or 0},
        )
        _notify(locked, event)
    _sync(case, locked)
    return event


# --- who holds a step -------------------------------------------------------------------------


def case_claim(*, position: Position, actor, now: dt.datetime | None = None) -> CaseEvent:
    """Take up a queued step: it leaves the role's queue and is `claimed` by `actor`, who must be
    bound to its role in the case's district (or city-wide). Claiming a step one already holds
    gives back the claim's event (a double click changes nothing); one someone else holds is
    refused (409 `claimed`). Event `claimed`."""
    now = now or timezone.now()
    _require_user(actor)
    with transaction.atomic():
        locked, position = _lock_position(position)
        if position.state == PositionState.CLAIMED and position.assignee_id == actor.pk:
            return _last_event(locked, activities=("claimed", "reassigned"), step_id=position.step_id)
        if position.state == PositionState.CLAIMED:
            raise _claimed_by_other()
        if position.state != PositionState.QUEUED:
            raise _not_in_queue()
        if not _bound(actor, role=position.role, district_id=locked.district_id):
            raise _not_your_role()
        position.state = PositionState.CLAIMED
        position.assignee = actor
        position.started_at = now
        position.save(update_fields=["state", "assignee", "started_at"])
        event = event_append(
            case=locked,
            activity="claimed",
            step_id=position.step_id,
            actor=actor,
            actor_role=position.role,
            assigned_at=position.assigned_at,
            started_at=now,
            completed_at=now,
        )
    return event


def case_release(*, position: Position, actor, now: dt.datetime | None = None) -> CaseEvent:
    """Put a claimed step back in its role's queue; only its assignee may (403 otherwise).
    Event `released`."""
    now = now or timezone.now()
    _require_user(actor)
    with transaction.atomic():
        locked, position = _lock_position(position)
        if position.state != PositionState.CLAIMED:
            raise CaseError("not_claimed", _("Nobody holds this step; there is nothing to release."), 409)
        if position.assignee_id != actor.pk:
            raise CaseError("forbidden", _("Only the person who holds a step can release it."), 403)
        started_at = position.started_at
        position.state = PositionState.QUEUED
        position.assignee = None
        position.started_at = None
        position.save(update_fields=["state", "assignee", "started_at"])
        event = event_append(
            case=locked,
            activity="released",
            step_id=position.step_id,
            actor=actor,
            actor_role=position.role,
            assigned_at=position.assigned_at,
            started_at=started_at,
            completed_at=now,
        )
    return event


def case_reassign(*, position: Position, to, by, reason: str, now: dt.datetime | None = None) -> CaseEvent:
    """A manager gives a step to someone: `by` must be bound to `manager` in the case's district
    or city-wide (403); `to` must be staff bound to the step's role there (400 `not_eligible`);
    a reason is required (400). The step is claimed by `to` from now. Event `reassigned` with
    {"from": previous assignee id or null, "to": id} in its data."""
    now = now or timezone.now()
    _require_user(by)
    reason = (reason or "").strip()
    if not reason:
        raise CaseError("reason_required", _("Say why the step is reassigned."))
    with transaction.atomic():
        locked, position = _lock_position(position)
        if not _bound(by, role=MANAGER_ROLE, district_id=locked.district_id):
            raise CaseError(
                "forbidden", _("Only a manager of the case's district can reassign its steps."), 403
            )
        if position.state not in (PositionState.QUEUED, PositionState.CLAIMED):
            raise _not_in_queue()
        if (
            to is None
            or getattr(to, "kind", None) != UserKind.STAFF
            or not to.is_active
            or not _bound(to, role=position.role, district_id=locked.district_id)
        ):
            raise CaseError(
                "not_eligible",
                _("%(person)s does not hold the role this step needs in this district.") % {"person": to},
            )
        previous = position.assignee_id
        position.state = PositionState.CLAIMED
        position.assignee = to
        position.started_at = now
        position.save(update_fields=["state", "assignee", "started_at"])
        event = event_append(
            case=locked,
            activity="reassigned",
            step_id=position.step_id,
            actor=by,
            actor_role=MANAGER_ROLE,
            assigned_at=position.assigned_at,
            started_at=now,
            completed_at=now,
            reason=reason,
            data={"from": previous, "to": to.pk},
        )
    return event


# --- the applicant withdraws ------------------------------------------------------------------


def case_withdraw(*, case: Case, actor, reason: str = "", now: dt.datetime | None = None) -> CaseEvent:
    """The applicant (or the office that filed it) withdraws an open case: every open step
    closes, the status becomes `withdrawn`. Refused for anyone else (403) and for a closed case
    (409 `closed`). One event, `withdrawn`."""
    now = now or timezone.now()
    _require_user(actor)
    with transaction.atomic():
        locked = _lock(case)
        _require_open(locked)
        if not _acts_for_applicant(actor, locked):
            raise CaseError(
                "forbidden", _("Only the applicant, or the office that filed it, can withdraw it."), 403
            )
        move = Move(case=locked, definition=case_definition(locked), calendar=working_calendar(), now=now)
        move.close(result="withdrawn")
        settled = move.settle()
        event = event_append(
            case=locked,
            case_fields=settled,
            activity="withdrawn",
            actor=actor,
            office=_office_of(actor),
            completed_at=now,
            reason=(reason or "").strip(),
            data=move.data(),
        )
    _sync(case, locked)
    return event


# --- payment and automatic steps ----------------------------------------------------------------


def case_payment_confirmed(
    *, case: Case, step_id: str, amount: int, reference: str, now: dt.datetime | None = None
) -> CaseEvent:
    """The payment gateway (after verifying the payment server-side) confirms the payment of the
    payment step `step_id`: the step completes with `done`. Event `paid` (no actor: the gateway)
    with {"amount", "reference"} in its data — never card data.

    Refused: an amount other than the step's fee total for the case's answers (400
    `amount_mismatch`); a reference already used for any payment of any case (409
    `reference_reused`; checked under this case's lock — the gateway's own verify refuses a
    reference paid twice across cases); a step not waiting for payment (409 `stale`)."""
    now = now or timezone.now()
    reference = str(reference or "").strip()
    if not reference or len(reference) > MAX_REFERENCE_LENGTH:
        raise CaseError("invalid_reference", _("The payment has no valid reference number."))
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise CaseError("amount_mismatch", _("The amount paid must be a whole number of Rials."))
    with transaction.atomic(), act_cursor() as cursor:
        row = _lock_row(case, cursor=cursor)
        locked = row.case
        definition, move = _locked_move(row, now=now)
        step = _work_step(definition, step_id)
        if step.kind != "payment":
            raise CaseError("not_payment", _("Step “%(step)s” takes no payment.") % {"step": step_id})
        position = _open_position(move, step_id)
        if position.state != PositionState.WITH_CITIZEN:
            raise _stale()
        try:
            due = sum(
                amount for _fee, amount in fees_for_step(definition, step_id=step_id, answers=locked.answers)
            )
        except ExpressionError as error:
            raise CaseError(
                "fee_error",
                _("The fee cannot be worked out: %(error)s. Tell the process owner.") % {"error": error},
                409,
            ) from None
        if amount != due:
            raise CaseError(
                "amount_mismatch",
                _("%(paid)s Rials were paid, but %(due)s Rials are due.")
                % {
                    "paid": localize_digits(f"{amount:,}", number=True),
                    "due": localize_digits(f"{due:,}", number=True),
                },
            )
        if payment_reference_used(cursor, reference):
            raise CaseError("reference_reused", _("This payment reference was used already."), 409)
        route = _route(step, "done", definition=definition, case=locked)
        move.follow(position, route)
        settled = move.settle()
        with cursor.batch():
            positions_write(cursor, before=row.before, positions=move.positions.values())
            event = event_append(
                case=locked,
                case_fields=row.case_changed(settled),
                activity="paid",
                step_id=step_id,
                outcome="done",
                actor_role=step.role,
                assigned_at=position.assigned_at,
                started_at=position.assigned_at,
                completed_at=now,
                data={"amount": amount, "reference": reference, **move.data()},
                cursor=cursor,
            )
        _close_if_ended(move)
        move.schedule_automatic()
    _sync(case, locked)
    return event


def case_run_automatic(*, case_id: int, step_id: str, now: dt.datetime | None = None) -> CaseEvent | None:
    """Run the automatic step `step_id` of case `case_id` and complete it with `done`; return the
    event, or None when there is nothing to do (the case is gone or closed, the step already ran:
    running twice is harmless). Actions: `issue_document` calls cases.issuing.document_issue for
    the step's output; `notify` hands the step's event to notifications.services.notify_case_event;
    `integration` is a hook for the integrations to come (logged, nothing called yet). An action
    that fails rolls everything back and raises: the task fails, and the deadline sweep queues it
    again later (cases.sweep.automatic_requeue)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().filter(pk=case_id).first()
        if locked is None or locked.status in CaseStatus.closed():
            return None
        definition = case_definition(locked)
        step = definition.step(step_id)
        move = Move(case=locked, definition=definition, calendar=working_calendar(), now=now)
        position = move.position(step_id)
        if step is None or position is None or position.state != PositionState.AUTOMATIC:
            return None
        data = _run_action(locked, step, now=now)
        route = _route(step, "done", definition=definition, case=locked)
        move.follow(position, route)
        settled = move.settle()
        event = event_append(
            case=locked,
            case_fields=settled,
            activity="completed",
            step_id=step_id,
            outcome="done",
            actor_role=step.role,
            assigned_at=position.assigned_at,
            started_at=now,
            completed_at=now,
            data={"action": step.action, **data, **move.data()},
        )
        if step.action == "notify":
            _call_optional("pishkhan.notifications.services", "notify_case_event", case=locked, event=event)
        _close_if_ended(move)
        move.schedule_automatic()
    return event


def _run_action(case: Case, step: Step, *, now) -> dict:
    if step.action == "issue_document":
        issued = _call_optional(
            "pishkhan.cases.issuing", "document_issue", case=case, output_id=step.output, now=now
        )
        if issued is _MISSING:
            logger.warning(
                "case %s: step %s: document issuing is not installed; nothing issued", case, step.id
            )
            return {"issued": None}
        return {"issued": getattr(issued, "number", None)}
    if step.action == "integration":
        # The adapter registry comes with the integrations; until then the step passes through.
        logger.info("case %s: step %s: integration hook (no adapter configured)", case, step.id)
    return {}


# --- helpers ----------------------------------------------------------------------------------

_MISSING = object()


def _call_optional(module: str, name: str, **kwargs):
    """Call module.name(**kwargs) when that module exists; _MISSING when it does not. Errors
    raised inside it propagate: only a module not written yet is tolerated."""
    if importlib.util.find_spec(module) is None:
        return _MISSING
    function = getattr(importlib.import_module(module), name, None)
    if function is None:
        return _MISSING
    return function(**kwargs)


def _notify(case: Case, event: CaseEvent) -> None:
    if event.activity in NOTIFIED_ACTIVITIES:
        _call_optional("pishkhan.notifications.services", "notify_case_event", case=case, event=event)


def _close_if_ended(move: Move) -> CaseEvent | None:
    """Append `ended` when the move closed the case on an end step (withdrawal has its own)."""
    if move.ended is None or not move.end_step:
        return None
    event = event_append(
        case=move.case,
        activity="ended",
        step_id=move.end_step,
        outcome=move.ended,
        completed_at=move.now,
        data={"result": move.ended},
    )
    _notify(move.case, event)
    return event


def _service_title(service) -> str:
    """The service's title in the language of the page (str(service) is always the Persian one)."""
    return service.title_en if _lang() == "en" and service.title_en else service.title_fa


def _lang() -> str:
    return translation.get_language() or "fa"


def _lock(case: Case) -> Case:
    with act_cursor() as cursor:
        return _lock_row(case, cursor=cursor, positions=False).case


def _lock_row(case: Case, *, cursor, positions: bool = True, actor=None) -> LockedRow:
    """Lock the case row, then read its positions (cases.store.case_lock), with what identifies
    its definition and the calendar's closures token, and the roles `actor` holds among the
    positions."""
    row = case_lock(cursor, case_id=getattr(case, "pk", None), positions=positions, user=actor)
    if row is None:
        raise CaseError("not_found", _("There is no such case."), 404)
    return row


def _locked_move(row: LockedRow, *, now, persist: bool = False) -> tuple[Definition, Move]:
    """The definition of the locked case (refused when it is closed) and a Move over the positions
    read with it; `persist=False` keeps the move in memory for cases.store to write."""
    _require_open(row.case)
    definition = case_definition_of(
        row.case, body_hash=row.body_hash, status=row.version_status, patch=row.patch
    )
    calendar = working_calendar(closures_token=row.calendar_token)
    move = Move(
        case=row.case,
        definition=definition,
        calendar=calendar,
        now=now,
        positions=row.positions,
        persist=persist,
    )
    return definition, move


def _lock_position(position: Position) -> tuple[Case, Position]:
    locked = _lock(Case(pk=position.case_id))
    _require_open(locked)
    current = Position.objects.filter(pk=position.pk, case=locked).first()
    if current is None:
        raise _stale()
    return locked, current


def _sync(target: Case | None, source: Case) -> None:
    # Callers keep their instance; give it the state the transaction left (a foreign key's id only
    # where it differs: setting one drops the related object the instance had cached).
    if target is None or target is source:
        return
    mine, theirs = target.__dict__, source.__dict__
    mine.update(zip(_CASE_VALUES, _case_values(theirs), strict=True))
    for name in _CASE_KEYS:
        value = theirs[name]
        if name not in mine or mine[name] != value:
            setattr(target, name, value)


def _require_user(user) -> None:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        raise CaseError("forbidden", _("Sign in first."), 403)


def _require_open(case: Case) -> None:
    if case.status in CaseStatus.closed():
        raise CaseError(
            "closed",
            _("This case is closed (%(status)s); nothing more can be done on it.")
            % {"status": case.get_status_display()},
            409,
        )


def _stale() -> CaseError:
    return CaseError(
        "stale",
        _("This step is already done, or is not open now; reload the page to see the case as it is."),
        409,
    )


def _claimed_by_other() -> CaseError:
    return CaseError("claimed", _("Someone else is working on this step."), 409)


def _not_in_queue() -> CaseError:
    return CaseError("not_in_queue", _("This step is not waiting in a staff queue."), 409)


def _not_your_role() -> CaseError:
    return CaseError("forbidden", _("You do not hold the role this step needs in this case's district."), 403)


def _work_step(definition: Definition, step_id: str) -> Step:
    step = definition.step(step_id) if isinstance(step_id, str) else None
    if step is None or not step.is_work:
        raise CaseError("unknown_step", _("This case has no step “%(step)s”.") % {"step": step_id}, 404)
    return step


def _open_position(move: Move, step_id: str) -> Position:
    position = move.position(step_id)
    if position is None:
        raise _stale()
    return position


def _bound(user, *, role: str, district_id: int) -> bool:
    return RoleBinding.objects.filter(
        Q(district_id=district_id) | Q(district__isnull=True), user=user, role__code=role
    ).exists()


def _office_of(user) -> Office | None:
    if user is None or getattr(user, "kind", None) != UserKind.OPERATOR:
        return None
    link = OfficeOperator.objects.select_related("office").filter(user=user).first()
    return link.office if link else None


def _acts_for_applicant(user, case: Case) -> bool:
    if user.pk == case.applicant_id:
        return True
    office = _office_of(user)
    return office is not None and office.pk == case.office_id


def _require_may_act(actor, *, position: Position, step: Step, case: Case, bound: bool | None = None) -> None:
    # bound: whether `actor` holds the position's role there, when the caller read it already
    # (cases.store.case_lock); None asks the database.
    if position.state == PositionState.WITH_CITIZEN:
        if position.request:
            raise CaseError("with_citizen", _("This step waits for the applicant's correction."), 409)
        if step.kind == "payment":
            raise CaseError("payment_pending", _("This step completes when the payment is confirmed."), 409)
        if not _acts_for_applicant(actor, case):
            raise CaseError(
                "forbidden", _("Only the applicant, or the office that filed it, can do this step."), 403
            )
        return
    if position.state == PositionState.AUTOMATIC:
        raise CaseError("automatic", _("This step runs by itself; nobody completes it by hand."), 409)
    if position.state == PositionState.WAITING_JOIN:
        raise _stale()
    if position.state == PositionState.CLAIMED and position.assignee_id != actor.pk:
        raise _claimed_by_other()
    if position.assignee_id == actor.pk:
        return
    if bound is None:
        bound = _bound(actor, role=position.role, district_id=case.district_id)
    if not bound and not _filing_office_acts(actor, position=position, case=case):
        raise _not_your_role()


def _filing_office_acts(actor, *, position: Position, case: Case) -> bool:
    # The office role's steps of a case an office filed are that office's own work.
    if position.role != OFFICE_ROLE or case.office_id is None:
        return False
    office = _office_of(actor)
    return office is not None and office.pk == case.office_id


def _route(step: Step, outcome: str, *, definition: Definition, case: Case) -> Outcome:
    """The outcome entry of `step` that `outcome` takes for the case's answers (read only when a
    condition needs them: most outcomes have none, and the answers are parsed on first read)."""
    candidates = [o for o in step.outcomes if o.outcome == outcome]
    if not candidates:
        allowed = list(dict.fromkeys(o.outcome for o in step.outcomes))
        raise CaseError(
            "unknown_outcome",
            _("“%(outcome)s” is not possible at this step; it allows: %(allowed)s.")
            % {"outcome": outcome, "allowed": ", ".join(allowed)},
            400,
            {"outcome": allowed},
        )
    scope = None  # built once a condition needs it: most outcomes have none
    for candidate in candidates:
        if not candidate.when:
            return candidate
        if scope is None:
            scope = answers_scope(definition, case.answers)
        try:
            if expression_evaluate(candidate.when, scope) is True:
                return candidate
        except ExpressionError as error:
            logger.warning("step %s: condition %r failed: %s", step.id, candidate.when, error)
    raise CaseError(
        "no_route",
        _("None of the conditions of “%(outcome)s” at this step holds for this case. Tell the process owner.")
        % {"outcome": outcome},
        409,
    )


def _clean_request(request, definition: Definition) -> dict:
    """A correction request as stored: {"missing": [...], "message": str, "due_days": int}."""
    if not isinstance(request, dict):
        raise CaseError(
            "invalid_request",
            _("Say what the applicant must correct, and by when."),
            400,
            {"message": [_("Required.")]},
        )
    errors: dict[str, list[str]] = {}
    titles = {d.id: d.title.get(_lang()) for d in definition.documents}
    documents = set(titles)
    missing = request.get("missing") or []
    if isinstance(missing, str):
        missing = [missing]
    if not isinstance(missing, list) or any(not isinstance(m, str) or m not in documents for m in missing):
        errors["missing"] = [
            _("Name documents this process asks for: %(documents)s.")
            % {"documents": "، ".join(f"{titles[d]} ({d})" for d in sorted(documents))}
        ]
    message = request.get("message")
    message = message.strip() if isinstance(message, str) else ""
    if not message:
        errors["message"] = [_("Tell the applicant what to correct.")]
    due_days = request.get("due_days")
    if isinstance(due_days, str) and due_days.strip().isdigit():
        due_days = int(due_days)
    if isinstance(due_days, bool) or not isinstance(due_days, int) or not 1 <= due_days <= MAX_DUE_DAYS:
        errors["due_days"] = [
            _("Give the applicant between 1 and %(max)s working days.")
            % {"max": localize_digits(MAX_DUE_DAYS)}
        ]
    if errors:
        raise CaseError("invalid_request", _("The correction request is incomplete."), 400, errors)
    return {"missing": list(dict.fromkeys(missing)), "message": message, "due_days": due_days}


def _documents_still_missing(case: Case, waiting: list[Position], definition: Definition) -> dict:
    titles = {d.id: d.title.get(_lang()) for d in definition.documents}
    problems: dict[str, list[str]] = {}
    for position in waiting:
        asked = position.request.get("missing") or []
        if not asked:
            continue
        uploaded = set(
            CaseDocument.objects.filter(
                case=case, pk__gt=position.request.get("documents_after", 0), document_type__in=asked
            ).values_list("document_type", flat=True)
        )
        for document in asked:
            if document not in uploaded:
                problems[document] = [
                    _("Upload “%(document)s”.") % {"document": titles.get(document, document)}
                ]
    return problems


def _last_event(case: Case, *, activities: tuple[str, ...], step_id: str) -> CaseEvent:
    # The event that gave the step to its holder: their claim, or a manager's reassignment.
    return case.events.filter(activity__in=activities, step_id=step_id).order_by("-seq").first()


# --- submission helpers -------------------------------------------------------------------------


def _check_filing(*, applicant, filed_by, channel: str, office: Office | None, now) -> Office | None:
    """Check who files for whom through which channel; return the filing office (or None)."""
    if applicant is None or getattr(applicant, "kind", None) != UserKind.CITIZEN or not applicant.is_active:
        raise CaseError("invalid_applicant", _("A case is filed for a citizen's account."))
    _require_user(filed_by)
    if channel == Channel.ONLINE:
        if filed_by.pk != applicant.pk:
            raise CaseError("forbidden", _("Online, citizens file their own requests."), 403)
        if office is not None:
            raise CaseError("invalid_channel", _("An online request is not filed by an office."))
        return None
    if channel == Channel.OFFICE:
        own = _office_of(filed_by)
        if own is None:
            raise CaseError("forbidden", _("Only an e-service office operator files through an office."), 403)
        if office is not None and office.pk != own.pk:
            raise CaseError("forbidden", _("An operator files for their own office only."), 403)
        if own.status != OfficeStatus.ACTIVE:
            raise CaseError(
                "office_suspended",
                _("%(office)s is suspended and may not file requests.") % {"office": own},
                403,
            )
        if own.licence_expires_on < local_date(now):
            raise CaseError(
                "office_licence_expired",
                _("The licence of %(office)s has expired; it may not file requests until it is renewed.")
                % {"office": own},
                403,
            )
        return own
    if channel == Channel.COUNTER:
        if getattr(filed_by, "kind", None) != UserKind.STAFF:
            raise CaseError("forbidden", _("Only municipal staff file requests at a counter."), 403)
        if office is not None:
            raise CaseError("invalid_channel", _("A counter request is not filed by an office."))
        return None
    raise CaseError(
        "invalid_channel",
        _("Unknown channel “%(channel)s”; use online, office or counter.") % {"channel": channel},
    )


def _request_hash(*, service, applicant, channel, district, office, answers) -> str:
    request = {
        "service": service.pk,
        "applicant": applicant.pk,
        "channel": channel,
        "district": district.pk if district is not None else None,
        "office": office.pk if office is not None else None,
        "answers": answers,
    }
    try:
        body = canonical_json(request)
    except (TypeError, ValueError):
        # Answers with values JSON cannot hold are refused by validation anyway; hash them as text
        # so the idempotency check still compares like with like.
        body = json.dumps(request, sort_keys=True, default=repr, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def _clean_key(key) -> str | None:
    if key is None or key == "":
        return None
    if not isinstance(key, str) or len(key) > MAX_KEY_LENGTH or not key.strip():
        raise CaseError(
            "invalid_idempotency_key",
            _("An idempotency key is text of 1 to %(max)s characters.") % {"max": MAX_KEY_LENGTH},
        )
    return key


def _previous_submission(*, filed_by, key: str, request_hash: str) -> Case | None:
    row = SubmissionKey.objects.select_related("case").filter(user=filed_by, key=key).first()
    return _case_for_key(row, request_hash) if row is not None else None


def _claim_key(*, filed_by, key: str, request_hash: str) -> tuple[SubmissionKey | None, Case | None]:
    """Write the key's row first. A concurrent request with the same key waits on the unique
    index until this transaction ends, then fails to insert and finds the case made here."""
    try:
        with transaction.atomic():
            return SubmissionKey.objects.create(user=filed_by, key=key, request_hash=request_hash), None
    except IntegrityError:
        row = SubmissionKey.objects.select_related("case").filter(user=filed_by, key=key).first()
        if row is None:  # the other request rolled back; let the client retry
            raise CaseError(
                "idempotency_in_progress", _("The same request is being processed; try again."), 409
            ) from None
        return None, _case_for_key(row, request_hash)


def _case_for_key(row: SubmissionKey, request_hash: str) -> Case:
    if row.request_hash != request_hash:
        raise CaseError(
            "idempotency_conflict",
            _("This idempotency key was used for a different request; use a new key for a new request."),
            409,
        )
    if row.case is None:
        raise CaseError("idempotency_in_progress", _("The same request is being processed; try again."), 409)
    return row.case


def _unused_tracking_code() -> str:
    # 9×10¹⁰ codes: a collision is rare, but a repeat would make the insert fail, so look first.
    for _attempt in range(TRACKING_CODE_ATTEMPTS):
        code = tracking_code_new()
        if not Case.objects.filter(tracking_code=code).exists():
            return code
    raise RuntimeError("no unused tracking code after several attempts; is the random source broken?")


def _district_from(definition: Definition, answers: dict, *, office: Office | None) -> District:
    """The district a case belongs to when none is chosen: a `district` answer (a district code),
    else the district whose boundary holds a map_point answer, else the filing office's."""
    code = answers.get("district")
    if isinstance(code, str) and code:
        district = District.objects.filter(code=code).first()
        if district is not None:
            return district
    points = [answers[f.id] for f in definition.fields if f.type == "map_point" and f.id in answers]
    if points:
        for district in District.objects.filter(boundary__isnull=False):
            if any(_inside(district.boundary, point["lat"], point["lng"]) for point in points):
                return district
    if office is not None:
        return office.district
    raise CaseError(
        "district_required",
        _("Choose the district (or mark the place on the map) so the request reaches the right office."),
        400,
        {"district": [_("Required.")]},
    )


def _inside(boundary, lat: float, lng: float) -> bool:
    """Is (lat, lng) inside a GeoJSON Polygon or MultiPolygon (or a Feature holding one)?"""
    if not isinstance(boundary, dict):
        return False
    if boundary.get("type") == "Feature":
        return _inside(boundary.get("geometry"), lat, lng)
    polygons = boundary.get("coordinates") or []
    if boundary.get("type") == "Polygon":
        polygons = [polygons]
    elif boundary.get("type") != "MultiPolygon":
        return False
    for rings in polygons:
        if rings and _in_ring(rings[0], lat, lng) and not any(_in_ring(hole, lat, lng) for hole in rings[1:]):
            return True
    return False


def _in_ring(ring, lat: float, lng: float) -> bool:
    # Even-odd rule: a ray from the point crosses the ring's edges an odd number of times.
    inside = False
    try:
        points = [(float(p[0]), float(p[1])) for p in ring]
    except (TypeError, ValueError, IndexError):
        return False
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lng < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside
