"""Provider name → class. Built-in providers register themselves when `contrib` is imported
(NotificationsConfig.ready does that); third-party packages do the same from their own app."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import EmailProvider


class Registry:
    """A small name → EmailProvider-subclass map."""

    def __init__(self):
        self._providers: dict[str, type[EmailProvider]] = {}

    def __call__(self, name: str):
        """Class decorator: `@register("file")`. A name can be registered once."""

        def decorator(cls: type[EmailProvider]) -> type[EmailProvider]:
            if name in self._providers and self._providers[name] is not cls:
                raise ImproperlyConfigured(f"Email provider {name!r} is registered twice.")
            cls.name = name
            self._providers[name] = cls
            return cls

        return decorator

    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> type[EmailProvider]:
        try:
            return self._providers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ImproperlyConfigured(
                f"Email provider {name!r} (PISHKHAN_EMAIL_PROVIDER) is unknown; registered: {known}."
            ) from None


register = Registry()


def get_provider() -> EmailProvider:
    """A ready provider instance for `settings.EMAIL_PROVIDER`.

    Raises ImproperlyConfigured for an unknown name or a provider missing its settings."""
    # Importing here, not at module top, keeps registry.py importable from the contrib modules.
    from . import contrib  # noqa: F401  (registers the built-in providers)

    return register.get(settings.EMAIL_PROVIDER)()
