"""`pishkhan bench engine`: how fast the case engine moves cases, against the database's own speed.

Everything runs in a throwaway database created for the run (Django's test-database machinery):
for SQLite a real file in a temporary folder, with the same WAL / synchronous=FULL pragmas as
production; for PostgreSQL a `test_…` database on the configured server. Nothing touches the
city's data.

Figures, all measured in the same run, after both sides warmed up untimed (one case walked to its
end, WARM_UP_TRANSACTIONS baseline transactions), as a running server is warm:
- baseline: transactions/s of the smallest write the engine must make per transition. Each
  transaction is `transaction.atomic()` around two statements sent through Django's cursor as
  plain SQL text — INSERT one cases_caseevent row, UPDATE one cases_case row (its event_seq and
  event_hash) — so four statements reach the database: BEGIN (IMMEDIATE on SQLite), the INSERT,
  the UPDATE, COMMIT. The rows inserted are the engine's own: the events of the case walked in
  the warm-up, read back and replayed in order with new sequence numbers, so the baseline writes
  what an event row holds (step, activity, outcome, actor and role, office, district, the three
  times, reason, data, both hashes) with the sizes and the index entries the engine's have.
  Same database, same connection settings and durability as the engine:
  SQLite in WAL mode with synchronous=FULL (the production pragmas), PostgreSQL as the server is
  configured (scripts/with-postgres keeps fsync and synchronous_commit on with
  PISHKHAN_PG_DURABLE=1); the run prints what is in force. On PostgreSQL these statements are
  parsed and planned at every execution, as the ORM's are (client-side binding);
- transitions/s: case advances (`case_advance`, `case_payment_confirmed`) through the building
  permit as-is (129 steps), timed around each call; automatic steps (which render PDFs) run between
  the timed calls and are counted apart, and so is working out a payment's amount (the payment
  page's work, not the transition's). Between the calls the walk reads nothing of its own: it
  follows the case from the instance the engine keeps in step and the steps each event says were
  entered and left. A transition locks the case row and reads its positions, writes the position
  rows that changed, appends the event and moves the case's head: on SQLite BEGIN IMMEDIATE, the
  case's SELECT and its positions', one UPDATE of the position, the event INSERT, the case UPDATE,
  COMMIT; on PostgreSQL the lock and the positions' read go in one round trip, the three writes as
  one statement (cases.store.ActCursor), all prepared once per connection (settings.DB_PREPARE).
  A transition that opens an automatic step also queues its task once the transaction commits,
  inside the timed call, as a request would;
- ratio = transitions/s ÷ baseline (target ≥ 0.5);
- statements and round trips per transition (medians, counted on an extra case after the timed
  walks) and per baseline transaction, BEGIN and COMMIT included, as the database received them:
  on SQLite each statement the library ran (its trace callback; each is a call, not a round trip
  over a network), on PostgreSQL the protocol messages libpq sent (its trace: a statement is an
  Execute or a simple Query, a round trip a Sync or a simple Query);
- submissions/s (`case_submit`) and status look-ups/s (`case_public_status`).
"""

from __future__ import annotations

import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.test.utils import override_settings

from .figures import Figures

BENCH_SERVICE = "building-permit"
FORWARD = ("approve", "done", "refer")
WARM_UP_TRANSACTIONS = 100


@dataclass
class EngineFigures(Figures):
    database: str
    baseline_tx_per_s: float
    transitions_per_s: float
    ratio: float
    submissions_per_s: float
    status_lookups_per_s: float
    statements_per_transition: float
    round_trips_per_transition: float
    baseline_statements: int
    baseline_round_trips: int
    durability: str
    cases: int
    transitions: int
    automatic_steps: int
    steps_in_definition: int


def bench_engine(
    *, cases: int = 5, baseline_transactions: int = 2000, lookups: int = 500, out=print
) -> EngineFigures:
    """Create a throwaway database (bench/database.py), measure, destroy it; return the figures."""
    from .database import throwaway_database

    # Automatic steps are only recorded as queued (the dummy backend); the walk runs them itself,
    # outside the timed calls, since they render PDFs rather than move cases.
    with (
        throwaway_database(),
        override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}),
    ):
        return _measure(cases=cases, baseline_transactions=baseline_transactions, lookups=lookups, out=out)


def _measure(*, cases: int, baseline_transactions: int, lookups: int, out) -> EngineFigures:
    from pishkhan.cases.selectors import case_public_status

    world = _seed()
    durability = _durability()
    out(f"database: {connection.vendor} ({durability}); {world.steps} work steps in {BENCH_SERVICE} v1")

    submitted, submit_seconds = [], 0.0
    for _ in range(cases):
        started = time.perf_counter()
        case = _submit(world)
        submit_seconds += time.perf_counter() - started
        submitted.append(case)
    submissions = cases / submit_seconds

    # Both warm up first, untimed, as a running server is warm: the statements built once per
    # process, the definition's and the calendar's caches filled.
    baseline_case, warm_case = _submit(world), _submit(world)
    _walk(warm_case, world)
    baseline = _Baseline(baseline_case, _event_rows(warm_case))
    warm_up = WARM_UP_TRANSACTIONS
    baseline.run(warm_up)
    # The baseline runs in slices between the walks, so both see the same disk and CPU: an fsync
    # costs what the machine's other work lets it cost at that moment.
    slice_size = max(1, baseline_transactions // (cases + 1))
    baseline_seconds = 0.0
    transitions, automatic, seconds = 0, 0, 0.0
    for case in [*submitted, None]:
        baseline_seconds += baseline.run(slice_size)
        if case is not None:
            moved, ran, spent = _walk(case, world)
            transitions, automatic, seconds = transitions + moved, automatic + ran, seconds + spent
    baseline_rate = (baseline.done - warm_up) / baseline_seconds
    rate = transitions / seconds
    out(
        f"baseline: {baseline_rate:,.0f} transactions/s (each: BEGIN, INSERT one event row, UPDATE "
        "one case row, COMMIT; plain SQL through Django's cursor, replaying the engine's own event "
        "rows)"
    )
    out(
        f"engine: {rate:,.0f} transitions/s ({transitions} transitions over {cases} cases; "
        f"{automatic} automatic steps run apart)"
    )
    engine_sent, baseline_sent = _statements(world, baseline)
    out(
        f"statements: {engine_sent.statements:g} per transition in {engine_sent.round_trips:g} round "
        f"trip(s) (medians), {baseline_sent.statements} per baseline transaction in "
        f"{baseline_sent.round_trips} (as the database received them, BEGIN and COMMIT included)"
    )

    codes = [(c.tracking_code, world.citizen.national_id) for c in submitted]
    started = time.perf_counter()
    for i in range(lookups):
        code, second = codes[i % len(codes)]
        assert case_public_status(tracking_code=code, second_factor=second) is not None
    lookup_rate = lookups / (time.perf_counter() - started)

    return EngineFigures(
        database=connection.vendor,
        baseline_tx_per_s=baseline_rate,
        transitions_per_s=rate,
        ratio=rate / baseline_rate,
        submissions_per_s=submissions,
        status_lookups_per_s=lookup_rate,
        statements_per_transition=engine_sent.statements,
        round_trips_per_transition=engine_sent.round_trips,
        baseline_statements=baseline_sent.statements,
        baseline_round_trips=baseline_sent.round_trips,
        durability=durability,
        cases=cases,
        transitions=transitions,
        automatic_steps=automatic,
        steps_in_definition=world.steps,
    )


@dataclass
class _World:
    service: object
    definition: object
    district: object
    citizen: object
    clerk: object
    operator: object
    answers: dict
    steps: int


def _seed() -> _World:
    """One district, every role the building permit names bound to one clerk, the shipped bank."""
    from pishkhan.accounts.models import District, Role, RoleBinding, User, UserKind
    from pishkhan.catalog.bank import bank_load
    from pishkhan.catalog.selectors import service_get, version_current, version_definition
    from pishkhan.demo.answers import sample_answers
    from pishkhan.offices.models import Office, OfficeOperator

    report = bank_load(directory=Path(settings.PROCESS_BANK_DIR))
    if not report.ok:
        raise RuntimeError("the process bank did not load: " + "; ".join(report.lines()))
    service = service_get(BENCH_SERVICE)
    definition = version_definition(version_current(service))
    district = District.objects.create(code="d01", number=1, name_fa="منطقه ۱", name_en="District 1")
    citizen = User.objects.create(
        username="bench-citizen", kind=UserKind.CITIZEN, mobile="09121234567", national_id="0012345679"
    )
    clerk = User.objects.create(username="bench-clerk", kind=UserKind.STAFF)
    operator = User.objects.create(username="bench-operator", kind=UserKind.OPERATOR)
    office = Office.objects.create(
        licence_number="BENCH-1",
        licence_expires_on=dt.date(2099, 1, 1),
        name="bench office",
        district=district,
    )
    OfficeOperator.objects.create(office=office, user=operator)
    for code in sorted({s.role for s in definition.work_steps if s.role}):
        role, _ = Role.objects.get_or_create(code=code, defaults={"name_fa": code, "name_en": code})
        RoleBinding.objects.create(user=clerk, role=role, district=district)
    answers = sample_answers(definition, district_code=district.code)
    return _World(
        service, definition, district, citizen, clerk, operator, answers, len(definition.work_steps)
    )


class _Baseline:
    """The raw floor: per transaction, one event row inserted and the case's head updated, in SQL.
    The rows are those of `events` (an _Events), taken in turn, appended to `case` after its own
    events with sequence numbers of their own."""

    def __init__(self, case, events: _Events):
        if not events.rows:
            raise RuntimeError("the baseline needs the events of a walked case to replay")
        self.case, self.rows, self.done = case, events.rows, 0
        self.hash_at = events.columns.index("hash")
        columns = ", ".join(connection.ops.quote_name(c) for c in ("case_id", "seq", *events.columns))
        self.insert = (
            f"INSERT INTO cases_caseevent ({columns})"  # noqa: S608 - names from the model
            f" VALUES ({', '.join(['%s'] * (2 + len(events.columns)))})"
        )

    def run(self, transactions: int) -> float:
        """Run `transactions` transactions, taking up the rows where the last run left them;
        return the seconds taken."""
        case, rows, hash_at = self.case, self.rows, self.hash_at
        seq = case.event_seq + self.done
        started = time.perf_counter()
        for i in range(self.done, self.done + transactions):
            row = rows[i % len(rows)]
            seq += 1
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(self.insert, [case.pk, seq, *row])
                cursor.execute(
                    "UPDATE cases_case SET event_seq = %s, event_hash = %s WHERE id = %s",
                    [seq, row[hash_at], case.pk],
                )
        elapsed = time.perf_counter() - started
        self.done += transactions
        return elapsed


@dataclass
class _Events:
    columns: list[str]  # every column of cases_caseevent but id, case_id and seq
    rows: list[tuple]


def _event_rows(case) -> _Events:
    """The event rows of `case` as stored, in order."""
    from pishkhan.cases.models import CaseEvent

    columns = [f.column for f in CaseEvent._meta.concrete_fields if f.name not in ("id", "case", "seq")]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(connection.ops.quote_name(c) for c in columns)} FROM cases_caseevent"  # noqa: S608 - names from the model
            " WHERE case_id = %s ORDER BY seq",
            [case.pk],
        )
        return _Events(columns, cursor.fetchall())


def _durability() -> str:
    """The settings that decide what a commit costs, as the database reports them."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA journal_mode")
            journal = cursor.fetchone()[0]
            cursor.execute("PRAGMA synchronous")
            level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0], "?")
            return f"journal_mode={journal}, synchronous={level}"
        if connection.vendor == "postgresql":
            settings_in_force = []
            for name in ("fsync", "synchronous_commit", "full_page_writes"):
                cursor.execute(f"SHOW {name}")
                settings_in_force.append(f"{name}={cursor.fetchone()[0]}")
            return ", ".join(settings_in_force)
    return "as configured"


@dataclass
class _Sent:
    statements: float = 0
    round_trips: float = 0  # on SQLite, every statement is a call into the library


@contextmanager
def _sent() -> Iterator[_Sent]:
    """Count what reaches the database while the block runs, at the driver (see the module's
    docstring); the counts are in the yielded _Sent once the block is over."""
    sent = _Sent()
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        from psycopg import pq

        pgconn = connection.connection.pgconn
        with tempfile.TemporaryFile("w+") as trace:
            pgconn.trace(trace.fileno())
            pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
            try:
                yield sent
            finally:
                pgconn.untrace()
            trace.seek(0)
            # Lines: direction (F from the client), length, message type, its fields.
            sent_types = [line.split("\t")[2].strip() for line in trace if line.startswith("F\t")]
        sent.statements = sum(kind in ("Execute", "Query") for kind in sent_types)
        sent.round_trips = sum(kind in ("Sync", "Query") for kind in sent_types)
        return
    driver = connection.connection

    def count(_sql):
        sent.statements += 1

    driver.set_trace_callback(count)
    try:
        yield sent
    finally:
        driver.set_trace_callback(None)
    sent.round_trips = sent.statements


def _statements(world: _World, baseline: _Baseline, *, sample: int = 40) -> tuple[_Sent, _Sent]:
    """What the database received per transition (medians over up to `sample` transitions of a
    fresh case) and per baseline transaction, outside the timed part."""
    from pishkhan.cases import services

    counts: list[_Sent] = []
    real = {name: getattr(services, name) for name in ("case_advance", "case_payment_confirmed")}

    def counted(function):
        def call(**kwargs):
            with _sent() as sent:
                result = function(**kwargs)
            counts.append(sent)
            if len(counts) >= sample:
                raise _Enough
            return result

        return call

    case = _submit(world)
    try:
        for name, function in real.items():
            setattr(services, name, counted(function))
        _walk(case, world)
    except _Enough:
        pass
    finally:
        for name, function in real.items():
            setattr(services, name, function)
    with _sent() as sent:
        baseline.run(1)
    median = _Sent(
        statistics.median(c.statements for c in counts), statistics.median(c.round_trips for c in counts)
    )
    return median, sent


class _Enough(Exception):
    pass


def _submit(world: _World):
    from pishkhan.cases.services import case_submit

    return case_submit(
        service=world.service,
        applicant=world.citizen,
        filed_by=world.operator,
        answers=world.answers,
        channel="office",
        district=world.district,
    )


def _walk(case, world: _World) -> tuple[int, int, float]:
    """Move `case` to its end along forward outcomes; return (timed transitions, automatic steps
    that ran, seconds inside the timed calls).

    The walk follows the case from what the engine hands back — the case instance it keeps in
    step, the steps each event says were entered and left — so nothing but the engine's own
    calls runs between the timed ones (no query of the walk's own, whose work would be counted
    against the engine as the caches it leaves cold)."""
    from pishkhan.cases.models import CaseStatus, Position
    from pishkhan.cases.selectors import case_payment_due
    from pishkhan.cases.services import case_advance, case_payment_confirmed, case_run_automatic

    definition = world.definition
    # The steps open now, oldest first (what the engine's queue would show), joins left out.
    open_steps = list(Position.objects.filter(case=case).order_by("pk").values_list("step_id", flat=True))
    moved, automatic, seconds, reference = 0, 0, 0.0, 0
    for _ in range(10 * world.steps):  # a bound, so a routing bug cannot loop forever
        if case.status in CaseStatus.closed():
            break
        step = next((definition.step(s) for s in open_steps if definition.step(s).is_work), None)
        if step is None:
            raise RuntimeError(f"case {case.tracking_code} has no step to act on")
        if step.kind == "automatic":
            event = case_run_automatic(case_id=case.pk, step_id=step.id)
            if event is None:
                raise RuntimeError(f"case {case.tracking_code}: automatic step {step.id} did not run")
            case.refresh_from_db()  # case_run_automatic takes an id, not the instance
            automatic += 1
        elif step.kind == "payment":
            reference += 1
            amount = case_payment_due(case, step_id=step.id)
            started = time.perf_counter()
            event = case_payment_confirmed(
                case=case, step_id=step.id, amount=amount, reference=f"{case.pk}-{reference}"
            )
            seconds += time.perf_counter() - started
            moved += 1
        else:
            actor = world.citizen if step.kind == "citizen" else world.clerk
            outcome = _forward_outcome(step)
            started = time.perf_counter()
            event = case_advance(case=case, step_id=step.id, outcome=outcome, actor=actor)
            seconds += time.perf_counter() - started
            moved += 1
        left = set(event.data.get("left", ()))
        open_steps = [s for s in open_steps if s not in left]
        open_steps += [
            s for s in event.data.get("entered", ()) if s not in left or definition.step(s).is_work
        ]
    else:
        raise RuntimeError(f"case {case.tracking_code} did not reach an end")
    return moved, automatic, seconds


def _forward_outcome(step) -> str:
    """The outcome to take, forward first: approve, done, then refer only if nothing else moves
    on; else the step's first."""
    offered = [o.outcome for o in step.outcomes]
    return next((o for o in FORWARD if o in offered), offered[0])
