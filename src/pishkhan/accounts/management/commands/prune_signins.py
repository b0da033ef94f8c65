"""`pishkhan manage prune_signins`: delete expired sign-in codes and old rate-limit hits.
Run it from cron or a systemd timer, e.g. hourly; the tables only grow otherwise."""

from django.core.management.base import BaseCommand

from pishkhan.accounts.services import signin_records_prune


class Command(BaseCommand):
    help = "Delete sign-in codes expired more than a day ago and rate-limit hits older than an hour."

    def handle(self, *args, **options):
        counts = signin_records_prune()
        self.stdout.write(
            f"Deleted {counts['signin_codes']} sign-in codes and {counts['rate_limit_hits']} rate-limit hits."
        )
