"""Console provider: the message is printed on the server's standard output. For the demo and
development only — sign-in codes appear in the terminal that runs `pishkhan demo`."""

import sys
import uuid

from ...base import SmsProvider
from ...registry import register


@register("console")
class ConsoleProvider(SmsProvider):
    def send(self, *, to: str, text: str) -> str:
        message_id = f"console-{uuid.uuid4().hex[:12]}"
        # Standard output rather than the logging system: LOG_LEVEL=WARNING must not hide the
        # demo's codes, and the demo terminal is where people look for them.
        print(f"[SMS {message_id}] to {to}:\n{text}\n", file=sys.stdout, flush=True)
        return message_id
