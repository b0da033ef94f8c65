"""The public email function. Code elsewhere calls it, never a provider class."""

import logging

from .base import EmailError
from .registry import get_provider

logger = logging.getLogger(__name__)


def _masked(address: str) -> str:
    # Enough to tell messages apart in a log, not enough to collect addresses from it.
    local, _at, domain = address.partition("@")
    return f"{local[:2]}***@{domain}" if domain else "***"


def email_send(*, to: str, subject: str, text: str) -> str:
    """Send a plain-text message with `subject` and body `text` to the address `to` through the
    configured provider (settings.EMAIL_PROVIDER).

    Returns the message id. Raises EmailError when the provider refuses or cannot be reached
    (logged here, without the body), ImproperlyConfigured when the provider is unknown."""
    provider = get_provider()
    try:
        message_id = provider.send(to=to, subject=subject, text=text)
    except EmailError as error:
        logger.warning("Email to %s through %s failed: %s", _masked(to), provider.name, error)
        raise
    logger.info("Email %s sent to %s through %s", message_id, _masked(to), provider.name)
    return message_id
