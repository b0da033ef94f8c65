"""The case event log becomes append-only inside the database too.

Defence in depth, as for the audit log (core migration 0002): the application never updates or
deletes case events, and each case's hash chain finds a row changed behind its back; these
triggers make the database itself refuse UPDATE and DELETE, so a stray ORM call or a hand-typed
SQL statement fails instead of quietly rewriting a case's history.

Keep in mind: on SQLite, a later migration that alters cases_caseevent makes Django rebuild the
table, which drops these triggers; such a migration must create them again
(tests/cases/test_event_log.py checks they are in place after all migrations). PostgreSQL keeps
them. TRUNCATE is not a row operation and is left to database privileges; Django's `flush` uses it
on PostgreSQL, and core's `flush` command lifts the SQLite triggers for the flush.
"""

from django.db import migrations

SQLITE_CREATE = [
    """
    CREATE TRIGGER cases_caseevent_no_update BEFORE UPDATE ON cases_caseevent
    BEGIN SELECT RAISE(ABORT, 'case events are append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER cases_caseevent_no_delete BEFORE DELETE ON cases_caseevent
    BEGIN SELECT RAISE(ABORT, 'case events are append-only: DELETE refused'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS cases_caseevent_no_update",
    "DROP TRIGGER IF EXISTS cases_caseevent_no_delete",
]

# SQLSTATE 23001 (restrict_violation) makes the refusal an IntegrityError in Django, as on SQLite.
POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION cases_caseevent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'case events are append-only: ' || TG_OP || ' refused',
            ERRCODE = '23001';
    END
    $$
    """,
    """
    CREATE TRIGGER cases_caseevent_append_only BEFORE UPDATE OR DELETE ON cases_caseevent
    FOR EACH ROW EXECUTE FUNCTION cases_caseevent_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS cases_caseevent_append_only ON cases_caseevent",
    "DROP FUNCTION IF EXISTS cases_caseevent_refuse_change()",
]

CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def create_triggers(apps, schema_editor):
    # Pishkhan runs on SQLite and PostgreSQL only; elsewhere the hash chain is the only guard.
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        # params=None: the SQL goes to the driver as is, with no placeholder parsing.
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
