"""The case event log: append-only and hash-chained per case (core.hashchain).

    event_append(*, case, activity, ..., completed_at, ...) -> CaseEvent
    case_event_payload(event) -> dict
    case_chains_verify() -> list[ChainProblem]

Every event of a case links to the one before through `prev_hash`; the case row is the chain's
head (`event_seq`, `event_hash`), so an event changed, deleted or cut off at the end shows up when
`pishkhan audit verify` walks the chains. The database refuses UPDATE and DELETE on the table
(migration 0002); the chain catches what gets past that (a dropped trigger, a restored backup).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from django.db import transaction
from django.utils.translation import gettext

from pishkhan.core.hashchain import ChainProblem, chain_hash, json_plain, moment_text, verify_chain

from .models import Case, CaseEvent
from .store import act_cursor, case_head_update, event_insert, instance_new

VERIFY_CHUNK_ROWS = 2000


def event_append(
    *,
    case: Case,
    activity: str,
    step_id: str = "",
    outcome: str = "",
    actor=None,
    actor_role: str = "",
    office=None,
    district=None,
    assigned_at=None,
    started_at=None,
    completed_at,
    reason: str = "",
    data: dict | None = None,
    case_fields: tuple[str, ...] | list[str] = (),
    cursor=None,
) -> CaseEvent:
    """Append one event to `case`'s log and move the case's head to it; return the event.

    The caller must hold the case row's lock (cases.store.case_lock, or
    `Case.objects.select_for_update()`) inside the transaction it appends in, and pass that locked
    instance: the next sequence number and the
    previous hash are read from it, and two writers without the lock would fork the chain (the
    unique (case, seq) constraint then refuses the second with an IntegrityError rather than let
    it happen). The instance's `event_seq` and `event_hash` are updated as well as the row.
    `cursor`: the act's (cases.store.act_cursor), when the caller has one; inside its batch() the
    event's pk is set, and a refusal raised, when the batch ends.

    `district` defaults to the case's; `actor` None means the system (automatic steps, the
    sweep); an anonymous user counts as None. `data` must be JSON-able (datetimes become ISO text);
    it is stored exactly as it is hashed. Never put card data or secrets in it. `case_fields`: other
    fields of the case instance to save in the same UPDATE (what Move.settle set)."""
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = instance_new(
        CaseEvent,
        {"case": case, "actor": actor, "office": office},
        {
            "id": None,
            "case_id": case.pk,
            "seq": case.event_seq + 1,
            "step_id": step_id or "",
            "activity": activity,
            "outcome": outcome or "",
            "actor_id": actor.pk if actor is not None else None,
            "actor_role": actor_role or "",
            "office_id": office.pk if office is not None else None,
            "district_id": district.pk if district is not None else case.district_id,
            "assigned_at": assigned_at,
            "started_at": started_at,
            "completed_at": completed_at,
            "reason": (reason or "").replace("\x00", ""),
            "data": json_plain(data or {}),  # stored exactly as hashed
            "prev_hash": case.event_hash,
            "hash": "",
        },
    )
    event.hash = event_hash(event)
    # The two statements the ORM would run, without building them anew for every event
    # (cases.store). Inside the caller's transaction no savepoint is needed: a failure rolls the
    # whole operation back anyway.
    if cursor is None:
        with transaction.atomic(savepoint=False), act_cursor() as own:
            _write(own, event, case, case_fields)
    else:
        _write(cursor, event, case, case_fields)
    return event


def _write(cursor, event: CaseEvent, case: Case, case_fields) -> None:
    event_insert(cursor, event)
    head = (case.event_seq, case.event_hash)
    case.event_seq, case.event_hash = event.seq, event.hash
    try:
        case_head_update(cursor, case=case, fields=("event_seq", "event_hash", *case_fields))
    except BaseException:
        case.event_seq, case.event_hash = head
        raise


_MOMENTS = ("assigned_at", "started_at", "completed_at")


def event_hash(event) -> str:
    """chain_hash(event.prev_hash, case_event_payload(event)) for an event whose data holds what
    core.hashchain.json_plain gives (event_append's do; so do the simulator's): the same bytes,
    without the general conversion."""
    payload = case_event_payload(event)
    for name in _MOMENTS:
        moment = payload[name]
        if moment is not None:
            payload[name] = moment_text(moment)
    return chain_hash(event.prev_hash, payload, plain=True)


def case_event_payload(event: CaseEvent) -> dict:
    """What an event's hash covers: every field but the row id and the hash itself. The case is
    named by its id (stable), the people, office and district by theirs."""
    return {
        "case": event.case_id,
        "seq": event.seq,
        "step_id": event.step_id,
        "activity": event.activity,
        "outcome": event.outcome,
        "actor": event.actor_id,
        "actor_role": event.actor_role,
        "office": event.office_id,
        "district": event.district_id,
        "assigned_at": event.assigned_at,
        "started_at": event.started_at,
        "completed_at": event.completed_at,
        "reason": event.reason,
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


def case_chains_verify() -> list[ChainProblem]:
    """Walk every case's event chain against the case's head and list what is wrong; an empty
    list means every log is intact. Each problem's message starts with the case's tracking code;
    its seq is the event's number in that case.

    Streams cases and events in id order (two iterators merged), so memory stays flat however
    many events there are; takes no lock. A case that gains events during the walk may be
    reported beyond its head — run it again before acting on that one."""
    problems: list[ChainProblem] = []
    heads = (
        Case.objects.order_by("pk")
        .values_list("pk", "tracking_code", "event_seq", "event_hash")
        .iterator(chunk_size=VERIFY_CHUNK_ROWS)
    )
    events = CaseEvent.objects.order_by("case_id", "seq").iterator(chunk_size=VERIFY_CHUNK_ROWS)
    grouped = itertools.groupby(events, key=lambda event: event.case_id)
    pending = next(grouped, None)
    for case_id, tracking_code, head_seq, head_hash in heads:
        # Events of cases before this one cannot exist (the foreign key protects them), so the
        # stream is either at this case or at a later one.
        rows: Iterator = iter(())
        if pending is not None and pending[0] == case_id:
            rows = _chain_rows(pending[1])
            pending = None
        for problem in verify_chain(rows, expected_head=(head_seq, head_hash)):
            problems.append(
                ChainProblem(
                    problem.seq,
                    problem.kind,
                    gettext("Case %(code)s: %(problem)s")
                    % {"code": tracking_code, "problem": problem.message},
                )
            )
        if pending is None:
            # verify_chain read the whole group; groupby moves on to the next case's events.
            pending = next(grouped, None)
    return problems


def _chain_rows(events) -> Iterator[tuple[int, dict, str, str]]:
    for event in events:
        yield event.seq, case_event_payload(event), event.prev_hash, event.hash
