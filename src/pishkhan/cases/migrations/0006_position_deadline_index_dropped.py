"""The open steps lose their (state, due_at) index.

Every move of a case rewrote it (a step's deadline changes with the step), and nothing needed it:
the deadline sweep reads every open step anyway, and with 200,000 open steps it ran faster
without it on both databases (ADR 0011, consequences).
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_position_indexes_covered'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='position',
            name='cases_posit_state_eea514_idx',
        ),
    ]
