"""`pishkhan audit verify`: walk the security audit log's hash chain and say whether it is intact.

Exit status: 0 when the log is intact, 1 when it is not. A problem is signalled by raising
CommandError(returncode=1) after the problems are printed: from the command line Django turns that
into exit status 1, and `call_command` callers (tests, other commands) get the exception rather
than a process exit.

The output is English whatever LANGUAGE_CODE says: it lands in terminals, cron mail and logs, where
right-to-left text renders badly and where people grep for "changed" or "deleted". The same
sentences are translated wherever they are shown on a page.
"""

import re

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from pishkhan.core.audit import audit_verify_report

_ANCHOR = re.compile(r"(\d+):([0-9a-f]{64})")


def _anchor(text):
    match = _ANCHOR.fullmatch(text.strip().lower())
    if not match:
        raise CommandError(f"--anchor wants SEQ:HASH (a number, a colon, 64 hex digits), not {text!r}")
    return int(match.group(1)), match.group(2)


class Command(BaseCommand):
    help = (
        "Security audit log tools. `audit verify` walks the hash chain of the audit log and reports "
        "each changed, deleted or cut-off row; it exits 0 when the log is intact and 1 when it is not. "
        "It checks every case's event log the same way."
    )

    def add_arguments(self, parser):
        subcommands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND", required=True)
        verify = subcommands.add_parser(
            "verify",
            help="Check the audit log's hash chain.",
            description=(
                "Walk the audit log row by row and check every hash and link against the head. "
                "Prints `audit log OK: N events, head #N HASH` and exits 0, or prints each problem "
                "(row, kind, what it means) and exits 1. Record the head it prints somewhere outside "
                "the database (a ticket, a signed e-mail): a later run with --anchor SEQ:HASH then "
                "also detects a rewrite of the whole log, which the chain alone cannot."
            ),
        )
        verify.add_argument(
            "--anchor",
            type=str,
            metavar="SEQ:HASH",
            help="A head recorded earlier; the row at SEQ must still carry HASH.",
        )

    def handle(self, *args, subcommand, **options):
        if subcommand == "verify":
            self.verify(anchor=_anchor(options["anchor"]) if options.get("anchor") else None)

    def verify(self, *, anchor):
        # Imported here, not at the top: core sits below cases and must not depend on it.
        from pishkhan.cases.events import case_chains_verify
        from pishkhan.cases.invariants import case_invariants_check

        with translation.override("en"):
            report = audit_verify_report(anchor=anchor)
            case_problems = case_chains_verify()
            case_state_problems = case_invariants_check()
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"audit log OK: {report.events} events, head #{report.head_seq} {report.head_hash[:16]}"
                )
            )
            self.stdout.write(f"head to record elsewhere: {report.head_seq}:{report.head_hash}")
        else:
            for problem in report.problems:
                self.stdout.write(self.style.ERROR(f"#{problem.seq} {problem.kind}: {problem.message}"))
        if not case_problems:
            self.stdout.write(self.style.SUCCESS("case event logs OK"))
        for problem in case_problems:
            self.stdout.write(self.style.ERROR(f"#{problem.seq} {problem.kind}: {problem.message}"))
        if not case_state_problems:
            self.stdout.write(self.style.SUCCESS("cases agree with their logs"))
        for problem in case_state_problems:
            self.stdout.write(self.style.ERROR(problem))
        if not report.ok:
            raise CommandError(
                f"audit log NOT intact: {len(report.problems)} problem(s) in {report.events} events walked",
                returncode=1,
            )
        if case_problems:
            raise CommandError(f"case event logs NOT intact: {len(case_problems)} problem(s)", returncode=1)
        if case_state_problems:
            raise CommandError(
                f"cases disagree with their logs: {len(case_state_problems)} problem(s)", returncode=1
            )
