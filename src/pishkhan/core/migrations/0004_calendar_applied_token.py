"""The calendar's applied token: which closures the open deadlines were last recomputed with.

A closure added, changed or removed by any path (the admin, a fixture, SQL) changes the token
(migration 0003's triggers); the deadline sweep compares the two and recomputes the open
deadlines when they differ, so none is left counted on the old calendar. Existing databases start
with the two equal: their deadlines are taken as computed with the closures they have.

The column is added with plain SQL: Django's AddField rebuilds the table on SQLite, and the
rebuild fails on the triggers of migration 0003, which name this table.
"""

from django.db import migrations, models
from django.db.models import F


def applied_now(apps, schema_editor):
    CalendarVersion = apps.get_model("core", "CalendarVersion")
    CalendarVersion.objects.using(schema_editor.connection.alias).update(applied_token=F("token"))


class Migration(migrations.Migration):
    dependencies = [("core", "0003_calendar_version")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="calendarversion",
                    name="applied_token",
                    field=models.CharField(
                        blank=True,
                        default="",
                        help_text="The token the open deadlines were last recomputed with; while it "
                        "differs from the token, the deadline sweep recomputes them.",
                        max_length=32,
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE core_calendarversion ADD COLUMN applied_token varchar(32) NOT NULL DEFAULT ''",
                    reverse_sql="ALTER TABLE core_calendarversion DROP COLUMN applied_token",
                ),
            ],
        ),
        migrations.RunPython(applied_now, migrations.RunPython.noop),
    ]
