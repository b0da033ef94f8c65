"""The event log loses its index on case alone: the unique (case, seq) starts with case and serves
every query by case, and each event written updated both.

Only the index is dropped. Django's AlterField would rebuild the whole table on SQLite, which
would also drop the triggers that keep the log append-only (migration 0002) and the index of
paid references (migration 0004).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "cases_caseevent_case_id_6c6031ac"  # the name Django gave it in 0001, on both databases


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_position_deadline_index_dropped")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="caseevent",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="cases.case",
                        verbose_name="case",
                    ),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP INDEX IF EXISTS {INDEX}",
                    reverse_sql=f"CREATE INDEX {INDEX} ON cases_caseevent (case_id)",
                ),
            ],
        ),
    ]
