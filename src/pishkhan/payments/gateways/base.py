"""The contract every payment gateway fulfils (the Shaparak flow: token → redirect → callback →
server-side verify → reverse when our order fails)."""

from abc import ABC, abstractmethod
from dataclasses import dataclass


class GatewayError(Exception):
    """The gateway could not be reached or refused the request. The text is for logs and
    operators; it never holds card data or keys."""


@dataclass(frozen=True)
class GatewayStart:
    token: str  # the gateway's token for this payment
    redirect_url: str  # where to send the payer's browser


@dataclass(frozen=True)
class Verification:
    ok: bool  # the bank says the payment succeeded and is ours to keep
    amount: int  # what the bank took, in Rials — from the bank, never from the browser
    reference: str  # the bank's reference number
    status: str  # the gateway's own word for the state ("paid", "cancelled" …), for logs


class PaymentGateway(ABC):
    """Takes payments in Rials. Built by `registry.get_gateway()` without arguments; reads its own
    settings in `__init__`."""

    #: The name under which the gateway is registered (settings.PAYMENT_GATEWAY).
    name: str = ""

    @abstractmethod
    def start(self, *, amount: int, order_id: str, callback_url: str) -> GatewayStart:
        """Ask for a token to take `amount` Rials for our `order_id`; the bank will send the
        browser back to `callback_url`. Raise GatewayError when refused or unreachable."""

    @abstractmethod
    def verify(self, *, token: str, reference: str) -> Verification:
        """Ask the bank, server-side, what happened to `token` (whose callback said
        `reference`). Raise GatewayError when the bank cannot be reached."""

    @abstractmethod
    def reverse(self, *, token: str, reference: str) -> bool:
        """Give the money of a verified payment back. True when the bank reversed it."""
