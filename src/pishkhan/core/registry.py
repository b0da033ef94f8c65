"""Name → class maps for the extension points that talk to the outside world (SMS, email, later
payment and the national permits portal). Each extension point keeps its own `base.py` contract
and `registry.py` with one of these; providers register themselves with `@register("name")`."""

from django.core.exceptions import ImproperlyConfigured


class ProviderRegistry:
    """A small name → provider-class map. `kind` ("SMS provider") and `setting` ("SMS_PROVIDER")
    only make the error messages say where to look."""

    def __init__(self, *, kind: str, setting: str):
        self.kind = kind
        self.setting = setting
        self._providers: dict[str, type] = {}

    def __call__(self, name: str):
        """Class decorator: `@register("console")`. A name can be registered once."""

        def decorator(cls: type) -> type:
            if name in self._providers and self._providers[name] is not cls:
                raise ImproperlyConfigured(f"{self.kind} {name!r} is registered twice.")
            cls.name = name
            self._providers[name] = cls
            return cls

        return decorator

    def names(self) -> list[str]:
        return sorted(self._providers)

    def get(self, name: str) -> type:
        try:
            return self._providers[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise ImproperlyConfigured(
                f"{self.kind} {name!r} (PISHKHAN_{self.setting}) is unknown; registered: {known}."
            ) from None
