"""`pishkhan manage api_token USERNAME [--rotate | --revoke]`: make, replace or remove the API token
of a staff or office-operator account (api.authentication says why citizens get none).

The key is printed once, on standard output and nowhere else; the audit log records that a token
was made, rotated or revoked, and by whom it was made (the command line, so no person), never the
key itself."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token

from pishkhan.accounts.models import User, UserKind
from pishkhan.core.audit import audit_record


class Command(BaseCommand):
    help = (
        "Make an API token for a staff or office-operator account and print it once. "
        "--rotate replaces an existing token (the old one stops working); --revoke removes it."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        action = parser.add_mutually_exclusive_group()
        action.add_argument("--rotate", action="store_true", help="Replace the account's token.")
        action.add_argument("--revoke", action="store_true", help="Remove the account's token.")

    def handle(self, *args, username, rotate=False, revoke=False, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No account has the username {username!r}.")
        subject = f"user:{user.pk}"
        if revoke:
            deleted, _ = Token.objects.filter(user=user).delete()
            if not deleted:
                raise CommandError(f"{username} has no API token.")
            audit_record(action="api_token.revoked", subject=subject, actor_label="pishkhan manage api_token")
            self.stderr.write(f"The API token of {username} is revoked.")
            return
        if user.kind == UserKind.CITIZEN:
            raise CommandError(
                "API tokens are for staff and office-operator accounts (integrations); "
                "citizens sign in on the website with an SMS code."
            )
        if not user.is_active:
            raise CommandError(f"{username} is disabled; enable the account first.")
        with transaction.atomic():
            existing = Token.objects.select_for_update().filter(user=user)
            replaced = existing.exists()
            if replaced:
                if not rotate:
                    raise CommandError(
                        f"{username} already has an API token. Use --rotate to replace it "
                        "(the old token stops working at once)."
                    )
                existing.delete()
            token = Token.objects.create(user=user)
            audit_record(
                action="api_token.rotated" if replaced else "api_token.created",
                subject=subject,
                actor_label="pishkhan manage api_token",
            )
        self.stderr.write(f"API token of {username} (shown once; send it as 'Authorization: Token <key>'):")
        self.stdout.write(token.key)
