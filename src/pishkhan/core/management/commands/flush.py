"""Django's `flush`, taught that the audit log and the case event log are append-only.

Emptying the whole database (the test runner does it after every transactional test, an
administrator with `pishkhan manage flush`) legitimately empties the audit log too. PostgreSQL's
flush uses TRUNCATE, which row triggers do not see; SQLite's uses DELETE, which the append-only
triggers of migration 0002 refuse. So on SQLite the triggers are lifted for the flush and put back
exactly as they were, in the same transaction, and on every database the audit head restarts at
#0 so the next event begins a fresh chain. The calendar's version row comes back with a new token
(core migration 0003), so calendars go on sharing their closures.
"""

import secrets

from django.core.management.commands import flush
from django.db import connections, transaction

from pishkhan.core.hashchain import GENESIS
from pishkhan.core.models import AuditEvent, AuditHead, CalendarVersion

# Append-only tables with SQLite row triggers: the audit log and the case event log (cases
# migration 0002). The case table is named, not imported: core does not depend on cases.
APPEND_ONLY_TABLES = (AuditEvent._meta.db_table, "cases_caseevent")


class Command(flush.Command):
    help = (
        flush.Command.help + " The audit log is emptied with everything else; its append-only triggers "
        "stay in place and its head restarts at #0."
    )

    def handle(self, **options):
        connection = connections[options["database"]]
        with transaction.atomic(using=connection.alias):
            triggers = [
                trigger for table in APPEND_ONLY_TABLES for trigger in _row_triggers(connection, table)
            ]
            with connection.cursor() as cursor:
                for name, _sql in triggers:
                    cursor.execute(f"DROP TRIGGER {connection.ops.quote_name(name)}")
            super().handle(**options)
            with connection.cursor() as cursor:
                for _name, sql in triggers:
                    cursor.execute(sql)
            tables = connection.introspection.table_names()
            if AuditHead._meta.db_table in tables:
                AuditHead.objects.using(connection.alias).get_or_create(
                    pk=1, defaults={"seq": 0, "hash": GENESIS}
                )
            if CalendarVersion._meta.db_table in tables:
                token = secrets.token_hex(16)  # an empty database has no deadline to recompute
                CalendarVersion.objects.using(connection.alias).get_or_create(
                    pk=1, defaults={"token": token, "applied_token": token}
                )


def _row_triggers(connection, table):
    """(name, CREATE statement) of the triggers on `table` that a flush would trip over."""
    if connection.vendor != "sqlite":
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
        )
        return cursor.fetchall()
