"""The contract every SMS provider fulfils."""

from abc import ABC, abstractmethod


class SmsError(Exception):
    """The provider did not accept the message. The text is for logs and operators; it never
    contains an API key or the message body. `retryable` is True when trying again later may
    work (timeouts, the provider's own outages), False for configuration errors (bad key, bad
    sender line, no credit) that need a person."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class SmsProvider(ABC):
    """Sends text messages to Iranian mobile numbers.

    Providers are built by `registry.get_provider()` without arguments and read their own
    settings in `__init__`; one instance may be used for several messages."""

    #: The name under which the provider is registered (settings.SMS_PROVIDER).
    name: str = ""

    @abstractmethod
    def send(self, *, to: str, text: str) -> str:
        """Send `text` to `to` (normalised `09xxxxxxxxx`). Return the provider's message id as
        text. Raise SmsError when the provider refuses or cannot be reached."""

    def send_code(self, *, to: str, code: str, text: str) -> str:
        """Send a one-time sign-in `code` to `to`; `text` is the full message we would send.

        Providers with a dedicated one-time-password channel (templates that operators pre-approve
        and that skip the advertising queue) override this; by default the text is sent as is.
        Same result and errors as `send`."""
        return self.send(to=to, text=text)
