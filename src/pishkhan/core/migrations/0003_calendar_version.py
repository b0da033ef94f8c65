"""The calendar's version: one row whose token the database changes on every write to the closures.

core.calendar keeps the closures it read under the token it read them with, and the case engine
reads the token in the statement that locks the case: while nobody adds, changes or removes a
closure, an act on a case reads no closure at all. Triggers rather than service code, so a closure
edited in the admin, loaded from a fixture or typed in SQL changes the token too. The token is
random, never a counter: a rolled-back transaction or an emptied table can bring back an older
state, and a counter would then bring back a number a calendar already cached other closures under.

Keep in mind: on SQLite, a later migration that alters core_closure makes Django rebuild the table,
which drops these triggers; such a migration must create them again
(tests/core/test_calendar_token.py checks they are in place after all migrations). Without the
row, calendars read the closures every time, as they did before this migration; core's `flush`
puts it back.
"""

import secrets

from django.db import migrations, models

SQLITE_CREATE = [
    """
    CREATE TRIGGER core_closure_token_insert AFTER INSERT ON core_closure
    BEGIN UPDATE core_calendarversion SET token = lower(hex(randomblob(16))) WHERE id = 1; END
    """,
    """
    CREATE TRIGGER core_closure_token_update AFTER UPDATE ON core_closure
    BEGIN UPDATE core_calendarversion SET token = lower(hex(randomblob(16))) WHERE id = 1; END
    """,
    """
    CREATE TRIGGER core_closure_token_delete AFTER DELETE ON core_closure
    BEGIN UPDATE core_calendarversion SET token = lower(hex(randomblob(16))) WHERE id = 1; END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_closure_token_insert",
    "DROP TRIGGER IF EXISTS core_closure_token_update",
    "DROP TRIGGER IF EXISTS core_closure_token_delete",
]

POSTGRESQL_CREATE = [
    """
    CREATE FUNCTION core_closure_token_renew() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE core_calendarversion SET token = replace(gen_random_uuid()::text, '-', '') WHERE id = 1;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER core_closure_token AFTER INSERT OR UPDATE OR DELETE ON core_closure
    FOR EACH STATEMENT EXECUTE FUNCTION core_closure_token_renew()
    """,
    """
    CREATE TRIGGER core_closure_token_truncate AFTER TRUNCATE ON core_closure
    FOR EACH STATEMENT EXECUTE FUNCTION core_closure_token_renew()
    """,
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS core_closure_token_truncate ON core_closure",
    "DROP TRIGGER IF EXISTS core_closure_token ON core_closure",
    "DROP FUNCTION IF EXISTS core_closure_token_renew()",
]

CREATE = {"sqlite": SQLITE_CREATE, "postgresql": POSTGRESQL_CREATE}
DROP = {"sqlite": SQLITE_DROP, "postgresql": POSTGRESQL_DROP}


def create_row(apps, schema_editor):
    CalendarVersion = apps.get_model("core", "CalendarVersion")
    CalendarVersion.objects.using(schema_editor.connection.alias).get_or_create(
        pk=1, defaults={"token": secrets.token_hex(16)}
    )


def create_triggers(apps, schema_editor):
    for statement in CREATE.get(schema_editor.connection.vendor, []):
        # params=None: the SQL goes to the driver as is, with no placeholder parsing.
        schema_editor.execute(statement, params=None)


def drop_triggers(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement, params=None)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_audit_append_only")]

    operations = [
        migrations.CreateModel(
            name="CalendarVersion",
            fields=[
                ("id", models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False)),
                (
                    "token",
                    models.CharField(
                        help_text="Random; a new one on every change to the closures, never reused.",
                        max_length=32,
                    ),
                ),
            ],
            options={"verbose_name": "calendar version"},
        ),
        migrations.RunPython(create_row, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
