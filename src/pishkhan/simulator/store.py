"""Writing a simulated history: the bulk path.

Hundreds of thousands of event rows cannot go through the ORM one by one in seconds, so each
partition's process turns its history into plain rows (`history_rows`, in the database's own
value forms) and the parent writes them (`rows_store`) with the driver's executemany (SQLite) or
COPY (PostgreSQL), in one transaction, into the engine's own tables — the same columns and values
`cases.services` writes one transaction at a time. Ids of cases and issued documents are chosen by
the simulator (they are in the hashes); PostgreSQL's sequences are moved past them afterwards.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json

from django.core.management.color import no_style
from django.db import connection

from pishkhan.cases.models import Case, CaseEvent, IssuedDocument, Position

from .play import History

TABLES = (
    (
        Case,
        "cases",
        (
            "id",
            "tracking_code",
            "service_id",
            "version_id",
            "variant_id",
            "district_id",
            "applicant_id",
            "filed_by_id",
            "office_id",
            "channel",
            "answers",
            "status",
            "submitted_at",
            "closed_at",
            "due_at",
            "suspended_since",
            "suspended_days",
            "event_seq",
            "event_hash",
        ),
    ),
    (
        CaseEvent,
        "events",
        (
            "case_id",
            "seq",
            "step_id",
            "activity",
            "outcome",
            "actor_id",
            "actor_role",
            "office_id",
            "district_id",
            "assigned_at",
            "started_at",
            "completed_at",
            "reason",
            "data",
            "prev_hash",
            "hash",
        ),
    ),
    (
        Position,
        "positions",
        (
            "case_id",
            "step_id",
            "role",
            "district_id",
            "state",
            "assignee_id",
            "assigned_at",
            "started_at",
            "due_at",
            "alert",
            "escalated_at",
            "branch_of",
            "arrivals",
            "request",
        ),
    ),
    (
        IssuedDocument,
        "issued",
        (
            "id",
            "case_id",
            "output_id",
            "number",
            "verification_code",
            "title_fa",
            "title_en",
            "issued_at",
            "valid_until",
        ),
    ),
)
JSON_FIELDS = frozenset({"answers", "data", "request"})
INDEX_REBUILD_ROWS = 50_000


def history_rows(history: History, *, postgres: bool) -> dict[str, list[tuple]]:
    """The history as rows per table (cases, events, positions, issued), each value in the form the
    database takes: JSON as text; datetimes as naive UTC text for SQLite (what Django stores
    there), as they are for PostgreSQL."""
    rows = {}
    for _model, name, fields in TABLES:
        objects = getattr(history, name)
        convert = [(field, field in JSON_FIELDS) for field in fields]
        out = []
        for obj in objects:
            row = []
            for field, is_json in convert:
                value = getattr(obj, field)
                if is_json:
                    value = json.dumps(value, ensure_ascii=False)
                elif not postgres and isinstance(value, dt.date):
                    value = _sqlite_value(value)
                row.append(value)
            out.append(tuple(row))
        rows[name] = out
    # Events in (case, seq) order: the unique index and the table then grow at their end.
    rows["events"].sort(key=_case_and_seq)
    return rows


def _case_and_seq(row: tuple) -> tuple[int, int]:
    return row[0], row[1]


def rows_store(rows: dict[str, list[tuple]]) -> None:
    """Write rows made by history_rows (or several of them, in a list). Call inside a transaction."""
    parts = rows if isinstance(rows, list) else [rows]
    postgres = connection.vendor == "postgresql"
    for model, name, fields in TABLES:
        total = sum(len(part.get(name) or ()) for part in parts)
        if not total:
            continue
        with _indexes_set_aside(model, rows=total, postgres=postgres):
            for part in parts:
                if part.get(name):
                    _write(model, fields, part[name], postgres=postgres)


@contextlib.contextmanager
def _indexes_set_aside(model, *, rows: int, postgres: bool):
    """On SQLite, drop a big table's plain (not unique) indexes while many rows go in and build
    them again afterwards: one sort per index instead of a B-tree insert per row. Inside the
    caller's transaction, so a failure leaves them as they were."""
    if postgres or rows < INDEX_REBUILD_ROWS:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL "
            "AND sql NOT LIKE 'CREATE UNIQUE%%'",
            [model._meta.db_table],
        )
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor:
        for _name, sql in indexes:
            cursor.execute(sql)


def sequences_reset() -> None:
    """Move PostgreSQL's id sequences past the ids the simulator chose."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Case, IssuedDocument]):
            cursor.execute(sql)


def _write(model, fields: tuple[str, ...], rows: list[tuple], *, postgres: bool) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    # get_field knows foreign keys by their attname too (case_id → the case field's column).
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(f).column) for f in fields)
    with connection.cursor() as cursor:
        if postgres:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        placeholders = ", ".join("?" for _ in fields)
        # The driver's own executemany: one prepared statement, rows bound in C.
        cursor.connection.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",  # noqa: S608 - names from the models
            rows,
        )


def _sqlite_value(value):
    # What Django's SQLite backend stores for an aware datetime: naive UTC text.
    if isinstance(value, dt.datetime):
        return str(value.astimezone(dt.UTC).replace(tzinfo=None))
    return value.isoformat()
