"""`pishkhan totp USERNAME`: print the current authenticator code of an account.

It exists for the demo, where nobody has the staff accounts' phones, and it defeats the second
factor by design — so it refuses to run in production unless DEBUG is on."""

import pyotp
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from pishkhan.accounts import selectors
from pishkhan.accounts.services import TOTP_INTERVAL_SECONDS


class Command(BaseCommand):
    help = "Print the current authenticator (TOTP) code of a demo staff or operator account."

    def add_arguments(self, parser):
        parser.add_argument("username", help="The account's username.")

    def handle(self, *args, username, **options):
        if not (settings.DEBUG or settings.ENVIRONMENT != "production"):
            raise CommandError("`totp` is for demo and development sites only; this one is production.")
        user = selectors.user_by_username(username=username)
        if user is None:
            raise CommandError(f"No account is named {username!r}.")
        if not user.totp_secret:
            raise CommandError(f"{username!r} has no authenticator yet; it gets one at its first sign-in.")
        self.stdout.write(pyotp.TOTP(user.totp_secret, interval=TOTP_INTERVAL_SECONDS).now())
