"""The audit log becomes append-only inside the database too, and gets its head row.

Defence in depth: the application never updates or deletes audit rows, and the hash chain finds a
row changed behind its back; these triggers make the database itself refuse UPDATE and DELETE, so
a stray ORM call or a hand-typed SQL statement fails instead of quietly rewriting history.

Keep in mind: on SQLite, a later migration that alters core_auditevent makes Django rebuild the
table, which drops these triggers; such a migration must create them again
(tests/core/test_audit.py checks they are in place after all migrations). PostgreSQL keeps them.
TRUNCATE is not a row operation and is left to database privileges; Django's `flush` uses it.
"""

from django.db import migrations

GENESIS = "0" * 64

SQLITE_CREATE = [
    """
    CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON core_auditevent
    BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
]

# SQLSTATE 23001 (restrict_violation) makes the refusal an IntegrityError in Django, as on SQLite.
POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION core_auditevent_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'audit events are append-only: ' || TG_OP || ' refused',
            ERRCODE = '23001';
    END
    $$
    """,
    """
    CREATE TRIGGER core_auditevent_append_only BEFORE UPDATE OR DELETE ON core_auditevent
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_append_only ON core_auditevent",
    "DROP FUNCTION IF EXISTS core_auditevent_refuse_change()",
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


def create_head(apps, schema_editor):
    AuditHead = apps.get_model("core", "AuditHead")
    AuditHead.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"seq": 0, "hash": GENESIS}
    )


def keep_head(apps, schema_editor):
    # Going back keeps the head: it still describes the rows, which going back keeps as well.
    pass


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]

    operations = [
        migrations.RunPython(create_head, keep_head),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
