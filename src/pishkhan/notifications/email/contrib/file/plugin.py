"""File provider: every message is appended as one JSON line to
`settings.EMAIL_FILE_PROVIDER_PATH`. Tests read the messages from there (`read_messages`)."""

import json
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from ...base import EmailError, EmailProvider
from ...registry import register


@register("file")
class FileProvider(EmailProvider):
    def __init__(self, path: Path | str | None = None):
        self.path = Path(path or settings.EMAIL_FILE_PROVIDER_PATH)

    def send(self, *, to: str, subject: str, text: str) -> str:
        message_id = f"file-{uuid.uuid4().hex[:12]}"
        line = json.dumps(
            {"id": message_id, "to": to, "subject": subject, "text": text, "at": timezone.now().isoformat()},
            ensure_ascii=False,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One write call per line in append mode: concurrent writers on POSIX do not interleave
            # lines this short.
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        except OSError as error:
            raise EmailError(f"cannot append to the email file: {error.strerror}") from None
        return message_id


def read_messages(path: Path | str | None = None) -> list[dict]:
    """All messages in the email file, oldest first, as dicts with id, to, subject, text and at.
    An absent file means no message was sent: []."""
    path = Path(path or settings.EMAIL_FILE_PROVIDER_PATH)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
