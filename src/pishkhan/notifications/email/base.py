"""The contract every email provider fulfils."""

from abc import ABC, abstractmethod


class EmailError(Exception):
    """The provider did not accept the message. The text is for logs and operators; it never
    contains a password or the message body. `retryable` is True when trying again later may
    work (a timeout, a refused connection, a 4xx answer from the mail server), False when a person
    has to act first (bad credentials, an address the server refuses for good)."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


class EmailProvider(ABC):
    """Sends plain-text email.

    Providers are built by `registry.get_provider()` without arguments and read their own
    settings in `__init__`; one instance may be used for several messages."""

    #: The name under which the provider is registered (settings.EMAIL_PROVIDER).
    name: str = ""

    @abstractmethod
    def send(self, *, to: str, subject: str, text: str) -> str:
        """Send a message with `subject` and the plain-text body `text` to the address `to`.
        Return an id for the message (the Message-ID header, or the provider's id) as text.
        Raise EmailError when the provider refuses or cannot be reached."""
