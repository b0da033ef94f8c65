"""Provider name → class. Built-in providers register themselves when `contrib` is imported
(NotificationsConfig.ready does that); third-party packages do the same from their own app."""

from django.conf import settings

from pishkhan.core.registry import ProviderRegistry

from .base import EmailProvider

register = ProviderRegistry(kind="Email provider", setting="EMAIL_PROVIDER")


def get_provider() -> EmailProvider:
    """A ready provider instance for `settings.EMAIL_PROVIDER`.

    Raises ImproperlyConfigured for an unknown name or a provider missing its settings."""
    # Importing here, not at module top, keeps registry.py importable from the contrib modules.
    from . import contrib  # noqa: F401  (registers the built-in providers)

    return register.get(settings.EMAIL_PROVIDER)()
