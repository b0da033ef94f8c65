"""The engine's reads and writes on its hot path, in SQL written once per database.

    act_cursor() -> context manager giving the ActCursor of one act (ActCursor.batch())
    case_lock(cursor, *, case_id, positions=False, user=None) -> LockedRow | None
    positions_write(cursor, *, before, positions) -> None
    event_insert(cursor, event) -> None
    case_head_update(cursor, *, case, fields) -> None
    payment_reference_used(cursor, reference) -> bool
    instance_new(model, related, values) -> a new, unsaved instance

Every act on a case is one transaction of a handful of statements. Through the ORM, building those
statements cost far more than running them: a step took ~3 ms, of which SQLite needed a tenth, and
PostgreSQL spent most of its share planning each statement again and waiting on round trips.
These functions run the statements the ORM would, with values converted both ways by the models'
own fields, build the model instances from the rows (as Model.from_db would, minus its generic
path), and share one cursor per act. On PostgreSQL that cursor binds its parameters on the
server, so its statements are prepared once per connection (settings.DB_PREPARE), and a batch of
them goes in one round trip. They belong to cases.services, cases.events and cases.positions
(which builds new rows with instance_new), which hold the rules; nothing else should call them.

Concurrency is what the services' docstring says. `case_lock` takes the case row's lock before it
reads the case's positions, in a statement of its own. On PostgreSQL it locks the row (`FOR
UPDATE`), and the positions' read — sent in the same round trip, but run by the server once the
lock is taken, with a snapshot of its own — sees what the previous holder of the lock committed.
On SQLite the transaction's IMMEDIATE write lock (settings) already keeps every other writer out
from its first statement on.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import operator
import re
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.conf import settings
from django.core.signals import setting_changed
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import DateTimeField, JSONField
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from django.dispatch import receiver

from pishkhan.accounts.models import Role, RoleBinding
from pishkhan.catalog.models import DistrictVariant, ProcessVersion
from pishkhan.core.fields import JSONText, LazyJSONField, ParsedOnRead
from pishkhan.core.models import CalendarVersion

from .models import Case, CaseEvent, Position

# Per (database vendor, statement): the SQL and what reading or writing it needs, built on first use.
_SQL: dict[tuple, object] = {}


@dataclass
class LockedRow:
    """The locked case, and what its act needs besides, read with it: the identity of its
    definition (for cases.selectors.case_definition_of), the closures' token (for
    core.calendar.working_calendar) and, when asked for, its positions in Position's default
    order, the roles among them the user is bound to in the case's district or city-wide, and
    the positions' values as read (`before`, for positions_write)."""

    case: Case
    body_hash: str
    version_status: str
    patch: object  # the district variant's patch; None without a variant
    calendar_token: str | None
    case_values: list  # the case's values as read, in _CASE_INDEX's order
    positions: list[Position] = field(default_factory=list)
    bound_roles: set[str] = field(default_factory=set)
    before: dict = field(default_factory=dict)

    def case_changed(self, fields) -> tuple[str, ...]:
        """Those of `fields` whose value on the case is no longer what was read: an UPDATE that
        leaves the others out rewrites no index over them (SQLite maintains the indexes of every
        column an UPDATE sets, changed or not)."""
        case, read = self.case, self.case_values
        return tuple(name for name in fields if getattr(case, name) != read[_CASE_INDEX[name]])


_CASE_INDEX = {f.attname: i for i, f in enumerate(Case._meta.concrete_fields)}


# --- cursors and values -------------------------------------------------------------------------


class ActCursor:
    """The statements of one act, on one database cursor.

    Runs each statement on the driver's own cursor, in the driver's placeholder style worked out
    once, with Django's error classes. On PostgreSQL that cursor binds parameters on the server,
    so its statements are prepared once per connection (settings.DB_PREPARE), and the statements
    of a `batch()` go in one round trip, their results read after the batch: writes to tables
    no other statement of the batch writes to go as one statement (each a data-modifying WITH
    query of it; they cannot depend on one another, so their order does not matter), anything
    else in psycopg's pipeline mode (the server runs the statements one after the other, each
    with its own snapshot). While Django keeps a query log (DEBUG, a test counting queries) or
    has execute wrappers installed, the statements go one by one through Django's own cursor
    instead, as the ORM's do, so those see them all."""

    def __init__(self, connection):
        self.db = connection
        self._batch: list | None = None  # (statement, params, result) waiting for the batch's end
        self._callbacks: list = []  # to run once the batch's results are in
        self.pipelines = False
        if connection.queries_logged or connection.execute_wrappers:
            self.wrapped = self.cursor = connection.cursor()  # Django's own, as for the ORM
        else:
            self.wrapped, self.cursor = None, self._driver_cursor(connection)
            if connection.vendor == "postgresql":
                from psycopg import Pipeline

                self.pipelines = Pipeline.is_supported()

    @staticmethod
    def _driver_cursor(connection):
        if connection.vendor != "postgresql":
            return connection.connection.cursor()
        # Imported here: they need psycopg, which a SQLite installation may not have.
        from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
        from django.db.backends.postgresql.psycopg_any import register_tzloader
        from psycopg.pq import Format

        cursor = ServerBindingCursor(connection.connection)
        # What DatabaseWrapper.create_cursor does for the cursors it makes.
        tzloader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != tzloader.timezone:
            register_tzloader(connection.timezone, cursor)
        return cursor

    def run(self, statement: Statement, params, *, rows: bool = False) -> Result:
        """Execute `statement`; with `rows`, its rows can be read from the result (after the
        batch, inside one)."""
        if self._batch is not None:
            result = Result(self.db, None, None, None)
            self._batch.append((statement, params, result if rows else None))
            return result
        if self.wrapped is not None:
            self.wrapped.execute(statement.sql, params)
            found = self.wrapped.fetchall() if rows else None
        else:
            try:
                self.cursor.execute(statement.native, params)
                found = self.cursor.fetchall() if rows else None
            except self.db.Database.Error:
                with self.db.wrap_database_errors:  # raised as Django's error of the same kind
                    raise
        return Result(self.db, None, found, self.cursor.lastrowid if self.db.vendor == "sqlite" else None)

    def then(self, callback) -> None:
        """Run `callback` once the results of the statements run so far can be read."""
        if self._batch is None:
            callback()
        else:
            self._callbacks.append(callback)

    def batch(self):
        """Send the statements run inside in one round trip, where the driver can (PostgreSQL);
        a context manager."""
        if not self.pipelines or self._batch is not None:
            return _AS_THEY_COME
        return self._batching()

    @contextmanager
    def _batching(self):
        batch = self._batch = []
        try:
            yield
        finally:
            self._batch = None
        tables = [statement.writes for statement, _params, _result in batch]
        with self.db.wrap_database_errors:
            if len(batch) > 1 and None not in tables and len(set(tables)) == len(tables):
                self._send_as_one(batch)
            else:
                self._send_pipelined(batch)
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def _send_as_one(self, batch) -> None:
        returning = [i for i, (_statement, _params, result) in enumerate(batch) if result is not None]
        if len(returning) > 1:
            self._send_pipelined(batch)
            return
        key = ("as one", tuple(statement.sql for statement, _params, _result in batch), tuple(returning))

        def build(connection):
            queries = ", ".join(f"w{i} AS ({statement.sql})" for i, (statement, _p, _r) in enumerate(batch))
            final = f"SELECT * FROM w{returning[0]}" if returning else "SELECT 1"  # noqa: S608 - our names
            return _statement(connection, f"WITH {queries} {final}")

        statement = _statements(self.db, key, build)
        self.cursor.execute(statement.native, [value for _s, params, _r in batch for value in params])
        rows = self.cursor.fetchall()
        if returning:
            batch[returning[0]][2]._rows = rows

    def _send_pipelined(self, batch) -> None:
        with self.db.connection.pipeline():
            for statement, params, result in batch:
                # A cursor of its own for each statement whose rows are read after the batch.
                cursor = self.cursor if result is None else self._driver_cursor(self.db)
                cursor.execute(statement.native, params)
                if result is not None:
                    result._cursor = cursor

    def close(self) -> None:
        with self.db.wrap_database_errors:
            self.cursor.close()

    def __enter__(self) -> ActCursor:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


_AS_THEY_COME = nullcontext()  # a batch where the statements cannot wait: each runs when it comes


class Result:
    """What a statement gave back: its rows (read when first asked for, on PostgreSQL after the
    batch it ran in) or the rowid it inserted (SQLite)."""

    __slots__ = ("_connection", "_cursor", "_rows", "lastrowid")

    def __init__(self, connection, cursor, rows, lastrowid):
        self._connection, self._cursor, self._rows, self.lastrowid = connection, cursor, rows, lastrowid

    def all(self) -> list:
        if self._rows is None:
            with self._connection.wrap_database_errors:
                self._rows = self._cursor.fetchall()
                self._cursor.close()
        return self._rows

    def one(self):
        rows = self.all()
        return rows[0] if rows else None


@dataclass(frozen=True)
class Statement:
    """One statement: `sql` with %s placeholders (Django's), `native` in the driver's style,
    `writes` the table an INSERT, UPDATE or DELETE writes to (None for anything else)."""

    sql: str
    native: str
    writes: str | None


_WRITES = re.compile(r'\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+("[^"]+"|\w+)', re.IGNORECASE)


def _statement(connection, sql: str) -> Statement:
    writes = _WRITES.match(sql)
    table = writes.group(1).strip('"') if writes else None
    if connection.vendor == "sqlite":
        from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

        # What SQLiteCursorWrapper.convert_query does to every statement, done once.
        return Statement(sql, FORMAT_QMARK_REGEX.sub("?", sql).replace("%%", "%"), table)
    return Statement(sql, sql, table)


def act_cursor() -> ActCursor:
    """The cursor one act runs its statements on, inside the act's transaction; use it in a
    `with`, which closes it."""
    connection = connections[DEFAULT_DB_ALIAS]
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        return ActCursor(connection)


def _loader(model):
    """A function (alias, values of every concrete field) -> instance, giving what
    model.from_db(alias, attnames, values) gives, without Model.__init__'s generic path; None when
    it would not be the same (a field whose attribute does more than hold its value)."""
    attnames = tuple(f.attname for f in model._meta.concrete_fields)
    for attname in attnames:
        if type(model.__dict__.get(attname)) not in (
            DeferredAttribute,
            ForeignKeyDeferredAttribute,
            ParsedOnRead,
        ):
            return None

    def load(alias, values):
        # receivers: nothing connected to either signal at all, the usual case, costs no look-up.
        if (pre_init.receivers or post_init.receivers) and (
            pre_init.has_listeners(model) or post_init.has_listeners(model)
        ):
            return model.from_db(alias, attnames, values)
        instance = model.__new__(model)
        state = instance._state = ModelState()
        state.adding, state.db = False, alias
        instance.__dict__.update(zip(attnames, values, strict=True))
        return instance

    return load


_LOADERS: dict = {}


def _loader_of(model):
    load = _LOADERS.get(model, _LOADERS)
    if load is _LOADERS:
        load = _LOADERS[model] = _loader(model)
    return load


def _load(model, alias, attnames, values):
    load = _loader_of(model)
    return load(alias, values) if load is not None else model.from_db(alias, attnames, values)


def instance_new(model, related: dict, values: dict):
    """A new, unsaved `model` instance: what model(**kwargs) makes, without Model.__init__'s
    generic path. `values`: every concrete field's value by attname (the pk None); `related`:
    {field name: instance} for the foreign keys whose object is at hand, cached on the instance as
    Model.__init__ caches them (None values are left out)."""
    attnames = _ATTNAMES.get(model)
    if attnames is None:
        attnames = _ATTNAMES[model] = frozenset(f.attname for f in model._meta.concrete_fields)
    if values.keys() != attnames:
        raise TypeError(f"{model.__name__} needs exactly {sorted(attnames)}; got {sorted(values)}")
    if _loader_of(model) is None:  # attributes that do more than hold a value: the generic path
        return model(**{**values, **{name: obj for name, obj in related.items() if obj is not None}})
    instance = model.__new__(model)
    state = instance._state = ModelState()
    instance.__dict__.update(values)
    cache = state.fields_cache
    for name, obj in related.items():
        if obj is not None:
            cache[name] = obj
    return instance


_ATTNAMES: dict = {}


def _fields(model, *, pk: bool = True):
    return [f for f in model._meta.concrete_fields if pk or not f.primary_key]


def _columns(connection, fields, table: str) -> tuple[str, list]:
    """The select list of `fields` of `table` and (index, functions, column) for each field whose
    value read from the database goes through functions, as the ORM's compiler applies them: the
    backend's, then the field's. Where the database keeps datetimes as UTC text, datetime columns
    are read as that text (CAST: the driver then leaves them alone) and made aware datetimes in
    one step (_utc_from_text): what the driver's parser and Django's converter give together."""
    q = connection.ops.quote_name
    columns, converters = [], []
    for i, model_field in enumerate(fields):
        col = model_field.get_col(table)
        column = f"{table}.{q(model_field.column)}"
        functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if _utc_text(connection) and functions == [connection.ops.convert_datetimefield_value]:
            column, functions = f"CAST({column} AS TEXT)", [_utc_from_text]
        elif isinstance(model_field, LazyJSONField) and functions == [model_field.from_db_value]:
            functions = [_json_unparsed]
        elif (
            isinstance(model_field, JSONField)
            and model_field.decoder is None
            and functions == [model_field.from_db_value]
        ):
            functions = [_json_from_text]
        columns.append(column)
        if functions:
            converters.append((i, functions, col))
    return ", ".join(columns), converters


def _utc_text(connection) -> bool:
    """Whether the database keeps datetimes as naive UTC text (SQLite, with USE_TZ)."""
    found = _UTC_TEXT.get(connection.alias)
    if found is None:
        found = _UTC_TEXT[connection.alias] = (
            connection.vendor == "sqlite" and settings.USE_TZ and connection.timezone is dt.UTC
        )
    return found


_UTC_TEXT: dict[str, bool] = {}  # by database alias; forgotten when the settings change (tests)


@receiver(setting_changed)
def _settings_changed(**kwargs):
    _UTC_TEXT.clear()
    _SQL.clear()


def _json_from_text(value, expression, connection):
    # JSONField.from_db_value for a whole column read as JSON text (no key lookup, no decoder of
    # its own: the fields read here have none); the empty object most positions hold, at once.
    if value == "{}":
        return {}
    if type(value) is str:
        return json.loads(value)
    return expression.output_field.from_db_value(value, expression, connection)


def _json_unparsed(value, expression, connection):
    # A LazyJSONField's text, for its attribute to parse when first read (core.fields).
    return value if value is None else JSONText(value)


def _utc_from_text(value, expression, connection):
    if value is None:
        return None
    try:
        return _moment(value)
    except (TypeError, ValueError):  # not the text SQLite stores: the general path
        return connection.ops.convert_datetimefield_value(value, expression, connection)


@functools.lru_cache(maxsize=4096)
def _moment(text: str) -> dt.datetime:
    # Remembered (datetimes are immutable): the rows of one case repeat their moments — the
    # positions entered together, their deadlines — and every act reads them all again.
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _convert(connection, row, converters) -> list:
    values = list(row)
    for i, functions, col in converters:
        value = values[i]
        for function in functions:
            value = function(value, col, connection)
        values[i] = value
    return values


_PLAIN, _DATETIME, _OTHER = 0, 1, 2


def _writers(fields):
    """(attname, field, kind) for each field: how _values turns its value into the database's."""
    writers = []
    for model_field in fields:
        if isinstance(model_field, JSONField):
            kind = _OTHER
        elif isinstance(model_field, DateTimeField):
            kind = _DATETIME
        else:
            kind = _PLAIN
        writers.append((model_field.attname, model_field, kind))
    return writers


def _values(connection, writers, instance) -> list:
    """What each writer's field.get_db_prep_save(value) gives for `instance` (every field in its
    __dict__: read whole, or made whole), without those layers of calls for the values that pass
    through unchanged: None, text and whole numbers in plain fields, aware datetimes, JSON's own
    containers."""
    values = instance.__dict__
    utc_text = _utc_text(connection)
    result = []
    append = result.append
    for name, model_field, kind in writers:
        if kind == _PLAIN:
            value = values[name]
            if value is None or type(value) is str or type(value) is int:
                append(value)
                continue
        elif kind == _DATETIME:
            value = values[name]
            if value is None:
                append(None)
                continue
            # adapt_datetimefield_value's value for an aware datetime, without its checks.
            if type(value) is dt.datetime:
                if not utc_text:
                    if value.utcoffset() is not None:
                        append(connection.ops.adapt_datetimefield_value(value))
                        continue
                elif (text := _utc_text_of(value)) is not None:
                    append(text)
                    continue
        else:
            value = getattr(instance, name)  # JSONText is parsed first
            if (type(value) is dict or type(value) is list) and _plain_json(connection):
                append(json.dumps(value, cls=model_field.encoder))  # what adapt_json_value gives
                continue
        append(model_field.get_db_prep_save(value, connection))
    return result


@functools.lru_cache(maxsize=4096)
def _utc_text_of(value: dt.datetime) -> str | None:
    # How SQLite keeps an aware datetime: naive UTC text; None for a naive one. Remembered: an act
    # writes its moment into several rows.
    if value.utcoffset() is None:
        return None
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _plain_json(connection) -> bool:
    # JSON goes to the database as json.dumps text unless the backend adapts it (PostgreSQL).
    return type(connection.ops).adapt_json_value is BaseDatabaseOperations.adapt_json_value


def _statements(connection, name: str, build):
    key = (connection.vendor, name)
    found = _SQL.get(key)
    if found is None:
        found = _SQL[key] = build(connection)
    return found


# --- the case row and its positions -------------------------------------------------------------


@dataclass
class _LockStatements:
    case: Statement  # the case row, locked
    positions: Statement  # its positions, read after the lock
    case_attnames: tuple
    case_converters: list
    patch_converters: list
    position_attnames: tuple
    position_converters: list
    request_index: int


def _lock_sql(connection) -> _LockStatements:
    q = connection.ops.quote_name
    case_fields, position_fields = _fields(Case), _fields(Position)
    case_columns, case_converters = _columns(connection, case_fields, "c")
    position_columns, position_converters = _columns(connection, position_fields, "p")
    version, variant = ProcessVersion._meta, DistrictVariant._meta
    calendar, binding, role = CalendarVersion._meta, RoleBinding._meta, Role._meta
    # Whether the user (first parameter) holds the position's role in the case's district or
    # city-wide: what services._bound asks, for every open step at once.
    bound = (
        f"EXISTS (SELECT 1 FROM {q(binding.db_table)} b"  # noqa: S608 - names from the models
        f" INNER JOIN {q(role.db_table)} r ON r.{q('id')} = b.{q('role_id')}"
        f" WHERE b.{q('user_id')} = %s AND r.{q('code')} = p.{q('role')}"
        f" AND (b.{q('district_id')} = c.{q('district_id')} OR b.{q('district_id')} IS NULL))"
    )
    # Position.Meta.ordering, so a Move sees its positions as it would through the ORM, then the
    # id: branches entered together tie on both, and PostgreSQL would order those by whichever
    # plan it picked (SQLite gives them in id order anyway).
    order = ", ".join(
        f"p.{q(Position._meta.get_field(name).column)} ASC" for name in [*Position._meta.ordering, "id"]
    )
    # Only the case row is locked, not the version and variant rows every case on them shares
    # (SQLite has no row locks: see the module's docstring).
    lock = "" if connection.vendor == "sqlite" else " FOR UPDATE OF c"
    case_sql = (
        f"SELECT {case_columns}, v.{q('body_hash')}, v.{q('status')}, dv.{q('patch')},"  # noqa: S608 - names from the models
        f" (SELECT cv.{q('token')} FROM {q(calendar.db_table)} cv WHERE cv.{q('id')} = 1)"
        f" FROM {q(Case._meta.db_table)} c"
        f" INNER JOIN {q(version.db_table)} v ON v.{q('id')} = c.{q('version_id')}"
        f" LEFT OUTER JOIN {q(variant.db_table)} dv ON dv.{q('id')} = c.{q('variant_id')}"
        f" WHERE c.{q('id')} = %s{lock}"
    )
    positions_sql = (
        f"SELECT {position_columns}, {bound} FROM {q(Position._meta.db_table)} p"  # noqa: S608 - names from the models
        f" INNER JOIN {q(Case._meta.db_table)} c ON c.{q('id')} = p.{q('case_id')}"
        f" WHERE p.{q('case_id')} = %s ORDER BY {order}"
    )
    return _LockStatements(
        case=_statement(connection, case_sql),
        positions=_statement(connection, positions_sql),
        case_attnames=tuple(f.attname for f in case_fields),
        case_converters=case_converters,
        patch_converters=_columns(connection, [DistrictVariant._meta.get_field("patch")], "dv")[1],
        position_attnames=tuple(f.attname for f in position_fields),
        position_converters=position_converters,
        request_index=[f.attname for f in position_fields].index("request"),
    )


def case_lock(cursor: ActCursor, *, case_id, positions: bool = False, user=None) -> LockedRow | None:
    """Lock the case row `case_id` until the transaction ends and read it; None when there is no
    such case. With `positions`, read its positions too (see LockedRow), after the lock; `user`
    is who acts, for LockedRow.bound_roles. Must run inside a transaction."""
    connection = cursor.db
    alias = connection.alias
    statements = _statements(connection, "lock", _lock_sql)
    # One round trip where the driver allows it (PostgreSQL): the server runs the positions' read
    # once the lock is taken.
    with cursor.batch():
        locking = cursor.run(statements.case, [case_id], rows=True)
        if positions:
            reading = cursor.run(statements.positions, [getattr(user, "pk", None), case_id], rows=True)
    head = locking.one()
    if head is None:
        return None
    n = len(statements.case_attnames)
    values = _convert(connection, head[:n], statements.case_converters)
    case = _load(Case, alias, statements.case_attnames, values)
    body_hash, status, patch, token = head[n:]
    if patch is not None:
        patch = _convert(connection, [patch], statements.patch_converters)[0]
    locked = LockedRow(case, body_hash, status, patch, token, values)
    if not positions:
        return locked
    request = statements.request_index
    attnames, converters = statements.position_attnames, statements.position_converters
    before, bound_roles, read = locked.before, locked.bound_roles, locked.positions
    for row in reading.all():
        values = _convert(connection, row[:-1], converters)
        position = _load(Position, alias, attnames, values)
        if values[request]:
            values[request] = copy.deepcopy(values[request])  # a Move could change it in place
        before[position.pk] = tuple(values)
        if row[-1]:
            bound_roles.add(position.role)
        read.append(position)
    return locked


# --- writing positions --------------------------------------------------------------------------


def _position_sql(connection):
    q = connection.ops.quote_name
    position_fields = _fields(Position)
    insert = [f for f in position_fields if not f.primary_key]
    attnames = [f.attname for f in position_fields]
    return (
        _writers(position_fields),
        operator.itemgetter(*attnames),  # a row's values, in LockedRow.before's order
        q(Position._meta.db_table),
        _statement(
            connection,
            f"INSERT INTO {q(Position._meta.db_table)} ({', '.join(q(f.column) for f in insert)})"  # noqa: S608 - names from the models
            f" VALUES ({', '.join(['%s'] * len(insert))})",
        ),
        _writers(insert),
    )


def positions_write(cursor: ActCursor, *, before: dict, positions) -> None:
    """Bring the case's position rows from `before` (LockedRow.before) to `positions` (a Move's,
    made with persist=False, after settle): delete the rows no longer there, update the changed
    columns of those still there, insert the new ones (setting their pk)."""
    connection = cursor.db
    q = connection.ops.quote_name
    writers, current, table, insert, insert_writers = _statements(connection, "positions", _position_sql)
    kept = {p.pk: p for p in positions if p.pk is not None}
    gone = [pk for pk in before if pk not in kept]
    if gone:
        sql = f"DELETE FROM {table} WHERE {q('id')} IN ({', '.join(['%s'] * len(gone))})"  # noqa: S608 - names from the models
        cursor.run(_statement(connection, sql), gone)
    for pk, position in kept.items():
        # Every field is in __dict__ (read whole, or set by the Move); most rows did not change.
        values, old = current(position.__dict__), before[pk]
        if values == old:
            continue
        changed = [writer for writer, new, was in zip(writers, values, old, strict=True) if new != was]
        columns = tuple(f.column for _name, f, _kind in changed)
        statement = _statements(
            connection,
            ("position update", columns),
            lambda c, columns=columns: _statement(
                c,
                f"UPDATE {table} SET {', '.join(f'{q(column)} = %s' for column in columns)}"  # noqa: S608 - names from the models
                f" WHERE {q('id')} = %s",
            ),
        )
        cursor.run(
            statement,
            [*_values(connection, changed, position), position.pk],
        )
    for position in positions:
        if position.pk is None:
            values = _values(connection, insert_writers, position)
            _insert(cursor, insert, values, position)


def _insert(cursor: ActCursor, insert: Statement, values, instance) -> None:
    """INSERT `instance`'s row; its pk is set once the database said it (after the batch)."""
    connection = cursor.db
    # SQLite hands the new rowid back with every INSERT; RETURNING would only add a result set.
    if connection.vendor == "sqlite" or not connection.features.can_return_columns_from_insert:
        _inserted(instance, cursor.run(insert, values).lastrowid, connection.alias)
        return
    returning = _statements(
        connection,
        ("returning", insert.sql),
        lambda c: _statement(c, f"{insert.sql} RETURNING {c.ops.quote_name('id')}"),
    )
    result = cursor.run(returning, values, rows=True)
    cursor.then(lambda: _inserted(instance, result.one()[0], connection.alias))


def _inserted(instance, pk, alias) -> None:
    instance.pk = pk
    instance._state.adding, instance._state.db = False, alias


# --- the event log --------------------------------------------------------------------------------


def _event_sql(connection):
    q = connection.ops.quote_name
    event_fields = _fields(CaseEvent, pk=False)
    insert = _statement(
        connection,
        f"INSERT INTO {q(CaseEvent._meta.db_table)} ({', '.join(q(f.column) for f in event_fields)})"  # noqa: S608 - names from the models
        f" VALUES ({', '.join(['%s'] * len(event_fields))})",
    )
    return insert, _writers(event_fields)


def event_insert(cursor: ActCursor, event: CaseEvent) -> None:
    """INSERT the new event `event` (unsaved, complete with its hash); sets its pk (inside a
    batch: once the batch is over)."""
    connection = cursor.db
    insert, writers = _statements(connection, "event", _event_sql)
    _insert(cursor, insert, _values(connection, writers, event), event)


def _head_sql(connection, fields: tuple):
    q = connection.ops.quote_name
    meta = Case._meta
    model_fields = [meta.get_field(name) for name in fields]
    update = _statement(
        connection,
        f"UPDATE {q(meta.db_table)} SET {', '.join(f'{q(f.column)} = %s' for f in model_fields)}"  # noqa: S608 - names from the models
        f" WHERE {q('id')} = %s",
    )
    return update, _writers(model_fields)


def case_head_update(cursor: ActCursor, *, case: Case, fields) -> None:
    """UPDATE the case row with the values of `fields` (names of Case fields) on `case`."""
    connection = cursor.db
    fields = tuple(fields)
    update, writers = _statements(connection, ("head", fields), lambda c: _head_sql(c, fields))
    cursor.run(update, [*_values(connection, writers, case), case.pk])


# --- payments -------------------------------------------------------------------------------------

# The expression cases migration 0004 indexes, over `paid` events only.
_PAID_REFERENCE = {
    "sqlite": "SELECT 1 FROM cases_caseevent WHERE activity = 'paid'"
    " AND json_extract(data, '$.reference') = %s LIMIT 1",
    "postgresql": "SELECT 1 FROM cases_caseevent WHERE activity = 'paid' AND (data ->> 'reference') = %s LIMIT 1",
}


def payment_reference_used(cursor: ActCursor, reference: str) -> bool:
    """Whether a `paid` event of any case carries `reference` (through migration 0004's index)."""
    connection = cursor.db
    statement = _statements(connection, "paid reference", lambda c: _statement(c, _PAID_REFERENCE[c.vendor]))
    return cursor.run(statement, [reference], rows=True).one() is not None
