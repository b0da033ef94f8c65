"""The public SMS functions. Code elsewhere calls these, never a provider class."""

import logging

from .base import SmsError
from .registry import get_provider

logger = logging.getLogger(__name__)


def _masked(mobile: str) -> str:
    # Enough to tell messages apart in a log, not enough to collect numbers from it.
    return f"{mobile[:4]}***{mobile[-2:]}" if len(mobile) > 6 else "***"


def sms_send(*, to: str, text: str) -> str:
    """Send `text` to the normalised mobile `to` through the configured provider.

    Returns the provider's message id. Raises SmsError when the provider refuses or cannot be
    reached (logged here, without the text, which may hold a code)."""
    provider = get_provider()
    try:
        message_id = provider.send(to=to, text=text)
    except SmsError as error:
        logger.warning("SMS to %s through %s failed: %s", _masked(to), provider.name, error)
        raise
    logger.info("SMS %s sent to %s through %s", message_id, _masked(to), provider.name)
    return message_id


def sms_send_code(*, to: str, code: str, text: str) -> str:
    """Send a one-time sign-in `code` to `to`; `text` is the whole message including the code.

    Providers with a one-time-password channel use it (see SmsProvider.send_code). Returns the
    message id; raises SmsError like `sms_send`."""
    provider = get_provider()
    try:
        message_id = provider.send_code(to=to, code=code, text=text)
    except SmsError as error:
        logger.warning("Sign-in code SMS to %s through %s failed: %s", _masked(to), provider.name, error)
        raise
    logger.info("Sign-in code SMS %s sent to %s through %s", message_id, _masked(to), provider.name)
    return message_id
