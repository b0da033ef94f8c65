"""Sandbox gateway: follows the Shaparak flow with our own local pages instead of a bank, for
development and tests. `start` records a SandboxTransaction and sends the browser to
`payments/sandbox/<token>/`, a page that says SANDBOX and offers «pay» and «cancel»; it then
returns to our callback with `token`, `status` and `reference`. No money moves."""

import secrets

from django.urls import reverse as url_reverse

from pishkhan.payments.models import SandboxStatus, SandboxTransaction

from ...base import GatewayStart, PaymentGateway, Verification
from ...registry import register


def sandbox_reference_new() -> str:
    """A random 14-digit reference, as a bank's retrieval reference number looks."""
    return str(10**13 + secrets.randbelow(9 * 10**13))


@register("sandbox")
class SandboxGateway(PaymentGateway):
    def start(self, *, amount: int, order_id: str, callback_url: str) -> GatewayStart:
        transaction = SandboxTransaction.objects.create(
            token=secrets.token_hex(16), order_id=str(order_id), amount=amount, callback_url=callback_url
        )
        return GatewayStart(
            token=transaction.token, redirect_url=url_reverse("payments:sandbox", args=[transaction.token])
        )

    def verify(self, *, token: str, reference: str) -> Verification:
        transaction = SandboxTransaction.objects.filter(token=token).first()
        if transaction is None:
            return Verification(ok=False, amount=0, reference="", status="unknown")
        ok = transaction.status == SandboxStatus.PAID and transaction.reference == str(reference or "")
        return Verification(
            ok=ok, amount=transaction.amount, reference=transaction.reference, status=transaction.status
        )

    def reverse(self, *, token: str, reference: str) -> bool:
        changed = SandboxTransaction.objects.filter(
            token=token, reference=str(reference or ""), status=SandboxStatus.PAID
        ).update(status=SandboxStatus.REVERSED)
        return changed == 1


def sandbox_decide(*, token: str, pay: bool) -> str | None:
    """The payer clicked «pay» (`pay=True`) or «cancel» on the sandbox page: record it once and
    return the callback address with token, status and reference; None for an unknown token. A
    second click changes nothing and returns the same address."""
    from urllib.parse import urlencode

    transaction = SandboxTransaction.objects.filter(token=token).first()
    if transaction is None:
        return None
    if transaction.status == SandboxStatus.STARTED:
        if pay:
            transaction.status, transaction.reference = SandboxStatus.PAID, sandbox_reference_new()
        else:
            transaction.status = SandboxStatus.CANCELLED
        transaction.save(update_fields=["status", "reference"])
    status = "ok" if transaction.status in (SandboxStatus.PAID, SandboxStatus.REVERSED) else "cancelled"
    query = urlencode({"token": transaction.token, "status": status, "reference": transaction.reference})
    separator = "&" if "?" in transaction.callback_url else "?"
    return f"{transaction.callback_url}{separator}{query}"
