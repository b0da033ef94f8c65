"""Open steps lose the unique (case, step_id): every move rewrote its entry, since a position's
step changes as the case moves on. The engine keeps one position per step under the case's lock,
and `pishkhan audit verify` reports a step open twice (ADR 0013). The case's foreign key gets back
its own index, which no move rewrites, for reading a case's open steps.

On SQLite both operations rebuild the table (Django's way of dropping a table's constraint).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_event_case_index_covered"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="position",
            name="unique_open_step_per_case",
        ),
        migrations.AlterField(
            model_name="position",
            name="case",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="positions",
                to="cases.case",
                verbose_name="case",
            ),
        ),
    ]
