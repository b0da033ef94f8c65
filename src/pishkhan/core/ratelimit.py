"""Rate limits that hold across processes and servers: every counted attempt is a row of
`core.models.RateLimitHit`, so two web workers (or two machines on one PostgreSQL) share one count.

    rate_limit_hit(*, key, limit, window, now=None) -> bool
    rate_limit_prune(*, older_than, now=None) -> int
    client_address(request) -> str | None

Keys are free text that name what is limited, by convention `<purpose>:<kind>:<value>`,
e.g. `signin:mobile:09121234567` or `signin:address:192.0.2.7`."""

import hashlib
import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import RateLimitHit


def _lock_key(key: str) -> None:
    """Serialise writers of one key until the surrounding transaction ends.

    Counting and then inserting is a read-then-write: two transactions under READ COMMITTED could
    both count `limit - 1` and both insert. PostgreSQL gets a transaction-scoped advisory lock on
    a 64-bit hash of the key (other keys are not blocked). SQLite needs nothing more: the settings
    open every transaction as IMMEDIATE, which takes the database's single write lock up front."""
    if connection.vendor != "postgresql":
        return
    lock_id = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])


def rate_limit_hit(*, key: str, limit: int, window: timedelta, now: datetime | None = None) -> bool:
    """Count one attempt under `key` and say whether it is allowed.

    Returns True, and records the attempt, when fewer than `limit` attempts were recorded for
    `key` in the `window` ending at `now` (default: the current time). Returns False, recording
    nothing, when the key already had `limit` attempts in that window.

    Refused attempts are deliberately not recorded: the window then frees up `window` after the
    last *allowed* attempt, however hard someone keeps hammering, and a flood cannot grow the table.
    Safe under concurrency: at most `limit` callers get True for one window, whatever the number
    of processes."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock_key(key)
        recent = RateLimitHit.objects.filter(key=key, at__gt=now - window, at__lte=now).count()
        if recent >= limit:
            return False
        RateLimitHit.objects.create(key=key, at=now)
        return True


def rate_limit_prune(*, older_than: timedelta, now: datetime | None = None) -> int:
    """Delete the attempts recorded more than `older_than` before `now`; return how many.

    Call it with the longest window in use (an hour for the sign-in limits): older rows can no
    longer refuse anything."""
    now = now or timezone.now()
    deleted, _ = RateLimitHit.objects.filter(at__lt=now - older_than).delete()
    return deleted


def _parse_address(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    candidates = [text]
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443", as some proxies write it
        candidates.append(text[1 : text.index("]")])
    elif text.count(":") == 1:  # "192.0.2.7:51234"; a bare IPv6 address has two colons or more
        candidates.append(text.split(":", 1)[0])
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def client_address(request) -> str | None:
    """The client's IP address as text, or None when it cannot be known.

    Read from `request.META[settings.CLIENT_ADDRESS_HEADER]` (REMOTE_ADDR by default; behind a
    reverse proxy e.g. HTTP_X_FORWARDED_FOR). For comma-separated lists the first entry is the
    client. That entry is whatever the client sent unless the proxy overwrites the header, so only
    name a forwarded header when the proxy in front sets it itself. Anything that is not a valid
    IPv4 or IPv6 address (a typo, an injected string, "unknown") gives None."""
    header = getattr(settings, "CLIENT_ADDRESS_HEADER", "REMOTE_ADDR") or "REMOTE_ADDR"
    value = request.META.get(header, "")
    if not isinstance(value, str) or not value:
        return None
    return _parse_address(value.split(",", 1)[0])
