"""Provider name → class. Built-in providers register themselves when `contrib` is imported
(AccountsConfig.ready does that); third-party packages do the same from their own app."""

from django.conf import settings

from pishkhan.core.registry import ProviderRegistry

from .base import SmsProvider

register = ProviderRegistry(kind="SMS provider", setting="SMS_PROVIDER")


def get_provider() -> SmsProvider:
    """A ready provider instance for `settings.SMS_PROVIDER`.

    Raises ImproperlyConfigured for an unknown name or a provider missing its settings."""
    # Importing here, not at module top, keeps registry.py importable from the contrib modules.
    from . import contrib  # noqa: F401  (registers the built-in providers)

    return register.get(settings.SMS_PROVIDER)()
