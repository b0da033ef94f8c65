"""Gateway name → class. Built-in gateways register themselves when `contrib` is imported
(PaymentsConfig.ready does that)."""

from django.conf import settings

from pishkhan.core.registry import ProviderRegistry

from .base import PaymentGateway

register = ProviderRegistry(kind="Payment gateway", setting="PAYMENT_GATEWAY")


def get_gateway(name: str | None = None) -> PaymentGateway:
    """A ready gateway instance: `name` (a payment's own gateway) or settings.PAYMENT_GATEWAY.

    Raises ImproperlyConfigured for an unknown name."""
    from . import contrib  # noqa: F401  (registers the built-in gateways)

    return register.get(name or settings.PAYMENT_GATEWAY)()
