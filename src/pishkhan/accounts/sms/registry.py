"""Provider name → class. Built-in providers register themselves when `contrib` is imported
(AccountsConfig.ready does that); third-party packages do the same from their own app."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import SmsProvider


class Registry:
    """A small name → SmsProvider-subclass map."""

    def __init__(self):
        self._providers: dict[str, type[SmsProvider]] = {}

    def __call__(self, name: str):
        """Class decorator: `@register("console")`. A name can be registered once."""

        def decorator(cls: type[SmsProvider]) -> type[SmsProvider]:
            if name in self._providers and self._providers[name] is not cls:
                raise ImproperlyConfigured(f"SMS provider {name!r} is registered twice.")
            cls.name = name
            self._providers[name] = cls
            return cls

        return decorator

    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> type[SmsProvider]:
        try:
            return self._providers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ImproperlyConfigured(
                f"SMS provider {name!r} (PISHKHAN_SMS_PROVIDER) is unknown; registered: {known}."
            ) from None


register = Registry()


def get_provider() -> SmsProvider:
    """A ready provider instance for `settings.SMS_PROVIDER`.

    Raises ImproperlyConfigured for an unknown name or a provider missing its settings."""
    # Importing here, not at module top, keeps registry.py importable from the contrib modules.
    from . import contrib  # noqa: F401  (registers the built-in providers)

    return register.get(settings.SMS_PROVIDER)()
