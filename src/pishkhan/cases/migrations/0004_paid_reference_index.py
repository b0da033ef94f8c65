"""An index on the reference of every `paid` event.

case_payment_confirmed refuses a payment reference used before by any case; without an index
that check read every payment ever made (cases.store.payment_reference_used). The index is on the
very expression that check compares, and only over `paid` events. Django cannot declare it the
same way on both databases (its JSON key lookups differ from the plain expression each database
can match against an index), so it is written per database here. It is a plain index: creating
it never fails on a history that already holds a reused reference (`pishkhan audit verify`
reports those).
"""

from django.db import migrations

CREATE = {
    "sqlite": "CREATE INDEX cases_paid_reference ON cases_caseevent (json_extract(data, '$.reference'))"
    " WHERE activity = 'paid'",
    "postgresql": "CREATE INDEX cases_paid_reference ON cases_caseevent ((data ->> 'reference'))"
    " WHERE activity = 'paid'",
}


def create_index(apps, schema_editor):
    statement = CREATE.get(schema_editor.connection.vendor)
    if statement:
        schema_editor.execute(statement, params=None)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor in CREATE:
        schema_editor.execute("DROP INDEX IF EXISTS cases_paid_reference", params=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_issued_file_on_demand")]

    operations = [migrations.RunPython(create_index, drop_index)]
