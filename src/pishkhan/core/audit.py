"""The security audit log: append-only, hash-chained (see core.models.AuditEvent, core.hashchain).

Contract used across the code base:
    audit_record(*, action, actor=None, actor_label="", subject="", address=None, data=None) -> AuditEvent
Actions are dotted names: signin.ok, signin.failed, signin.locked, role.granted, role.revoked,
personal_data.exported, national_id.read, …

Reads go through audit_events(); `pishkhan audit verify` calls audit_verify_report(). The database
refuses UPDATE and DELETE on the rows (migration 0002); the chain finds what gets past that.
"""

import ipaddress
import json
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext

from .hashchain import CHANGED, GENESIS, TRUNCATED, ChainProblem, canonical_json, chain_hash, verify_chain
from .models import AuditEvent, AuditHead

HEAD_ID = 1
VERIFY_CHUNK_ROWS = 2000

# Keys refused in `data`, at any depth. The log is read by auditors and exported; a sign-in code or
# a password in it would turn the audit trail into a leak. Identifiers belong in `subject`.
SECRET_KEYS = frozenset(
    {
        "password",
        "passcode",
        "passphrase",
        "secret",
        "totp_secret",
        "token",
        "otp",
        "totp",
        "code",
        "sms_code",
        "signin_code",
        "pin",
        "api_key",
        "session_key",
    }
)


class AuditHeadMissing(RuntimeError):
    """The head row is gone while the log still has rows: someone removed it, and appending would
    hide whatever was cut off. Restore the head from a backup after `pishkhan audit verify`."""


def audit_record(*, action, actor=None, actor_label="", subject="", address=None, data=None) -> AuditEvent:
    """Append one event to the audit log and return it.

    action: a dotted name such as "signin.failed" (1–60 characters). actor: the user who acted, if
    known (an anonymous user counts as unknown). actor_label: who acted as typed or shown, e.g. the
    username tried at a failed sign-in; defaults to str(actor). subject: what the action was about,
    e.g. "user:42". address: the client IP; one that does not parse is kept as data["unparsed_address"]
    instead, so a forged header cannot stop the event from being written. data: a JSON-able dict of
    details; never a secret or a code — keys in SECRET_KEYS raise ValueError. Datetimes, Decimals
    and UUIDs in it are stored as strings (canonical_json). Labels lose NUL characters and are cut
    to their column's length.

    The event joins the caller's transaction: if that rolls back, the event and the head move are
    undone together and the chain stays whole. The head row stays locked until the transaction
    ends, so record late in a long transaction; concurrent writers queue on that lock, which is
    what keeps sequence numbers gap-free.
    """
    if not isinstance(action, str) or not 0 < len(action) <= _max_length("action"):
        raise ValueError(f"audit action must be a dotted name of 1–60 characters, got {action!r}")
    data = _checked_data(data)
    address, data = _client_address(address, data)
    if actor is not None and not actor.is_authenticated:
        actor = None
    label = actor_label or (str(actor) if actor is not None else "")

    with transaction.atomic():
        head = _locked_head()
        event = AuditEvent(
            seq=head.seq + 1,
            at=timezone.now(),
            action=action,
            actor=actor,
            actor_label=_fit(label, "actor_label"),
            subject=_fit(subject or "", "subject"),
            address=address,
            data=data,
            prev_hash=head.hash,
        )
        event.hash = chain_hash(event.prev_hash, audit_payload(event))
        event.save(force_insert=True)
        AuditHead.objects.filter(pk=HEAD_ID).update(seq=event.seq, hash=event.hash)
    return event


def audit_payload(event: AuditEvent) -> dict:
    """The fields of an event its hash covers: seq, at, action, actor_id, actor_label, subject,
    address, data and prev_hash. Everything an auditor reads is in it; the row's own id is not
    (it says nothing about what happened)."""
    return {
        "seq": event.seq,
        "at": event.at,
        "action": event.action,
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "subject": event.subject,
        "address": _address_for_hash(event.address),
        "data": event.data,
        "prev_hash": event.prev_hash,
    }


def audit_events(*, action=None, actor=None, since=None):
    """Audit events, newest first. Each argument narrows the list: action (an exact dotted name),
    actor (a user), since (an aware datetime; events at or after it)."""
    events = AuditEvent.objects.all()
    if action is not None:
        events = events.filter(action=action)
    if actor is not None:
        events = events.filter(actor=actor)
    if since is not None:
        events = events.filter(at__gte=since)
    return events.order_by("-seq")


@dataclass(frozen=True)
class AuditVerification:
    """The outcome of walking the audit log: the problems found (none when intact), how many rows
    were walked, and the head they were checked against — the (seq, hash) worth recording outside
    the database."""

    problems: list[ChainProblem]
    events: int
    head_seq: int
    head_hash: str

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify(*, anchor: tuple[int, str] | None = None) -> list[ChainProblem]:
    """Walk the whole audit log and list its problems; an empty list means the log is intact.
    anchor: a (seq, hash) recorded outside the database earlier, see audit_verify_report."""
    return audit_verify_report(anchor=anchor).problems


def audit_verify_report(*, anchor: tuple[int, str] | None = None) -> AuditVerification:
    """Walk the audit log up to its head and report what is wrong with it (see verify_chain).

    Rows are streamed in chunks, so memory stays flat on a log of millions of rows, and no lock is
    taken: writers keep appending meanwhile. The head is read first and only rows up to it are
    walked, so an append that lands during the walk is not mistaken for tampering.
    anchor: a (seq, hash) recorded outside the database earlier (e.g. from an earlier run's output);
    the row at seq must still carry that hash — the one check that catches a rewrite of the whole
    log together with its head.
    """
    head = AuditHead.objects.filter(pk=HEAD_ID).first()
    walked = _Counter()
    if head is None:
        rows = walked.count(_chain_rows(AuditEvent.objects.all()))
        problems = verify_chain(rows, expected_head=None, anchor=anchor)
        if walked.n:
            problems.insert(0, ChainProblem(0, TRUNCATED, _head_missing_message()))
        return AuditVerification(problems, walked.n, 0, GENESIS)

    rows = walked.count(_chain_rows(AuditEvent.objects.filter(seq__lte=head.seq)))
    problems = verify_chain(rows, expected_head=(head.seq, head.hash), anchor=anchor)
    stray = _first_row_beyond_head()
    if stray is not None:
        problems.append(
            ChainProblem(
                stray,
                CHANGED,
                gettext("Row #%(seq)s lies beyond the head: it was added without going through audit_record.")
                % {"seq": stray},
            )
        )
    return AuditVerification(problems, walked.n, head.seq, head.hash)


# --- helpers ----------------------------------------------------------------------------------


def _locked_head() -> AuditHead:
    try:
        return AuditHead.objects.select_for_update().get(pk=HEAD_ID)
    except AuditHead.DoesNotExist:
        pass
    # Migration 0002 creates the head; it is missing after a `flush` outside core's own flush
    # command or in a database built without migrations. Starting afresh is right only for an
    # empty log.
    if AuditEvent.objects.exists():
        raise AuditHeadMissing(
            "The audit head row is missing although the audit log has events; run "
            "`pishkhan audit verify` and restore the head from a backup."
        )
    try:
        with transaction.atomic():
            AuditHead.objects.create(pk=HEAD_ID, seq=0, hash=GENESIS)
    except IntegrityError:
        pass  # another writer created it a moment ago; its row is locked below like any other
    return AuditHead.objects.select_for_update().get(pk=HEAD_ID)


def _checked_data(data) -> dict:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise TypeError(f"audit data must be a dict, got {type(data).__name__}")
    _refuse_secrets(data)
    # Store exactly what the hash covers: the JSON form, not the Python objects it came from.
    return json.loads(canonical_json(data))


def _refuse_secrets(value):
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.lower() in SECRET_KEYS:
                raise ValueError(
                    f"audit data must not hold secrets or codes: drop the key {key!r} "
                    "(put an identifier in `subject` instead)"
                )
            _refuse_secrets(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_secrets(item)


def _client_address(address, data):
    if address is None or address == "":
        return None, data
    text = str(address).replace("\x00", "").strip()
    try:
        # A zone ("fe80::1%eth0") names the server's interface, not the client, and PostgreSQL's
        # inet type refuses it.
        return str(ipaddress.ip_address(text.split("%", 1)[0])), data
    except ValueError:
        return None, {**data, "unparsed_address": text[:100]}


def _address_for_hash(address):
    # The database gives an address back in its own spelling (PostgreSQL's inet writes some IPv6
    # addresses differently from Django), and Python's own str() of IPv4-mapped addresses differs
    # between versions; the fully written-out form is the same everywhere.
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if parsed.version == 4:
        return str(parsed)
    digits = parsed.packed.hex()
    return ":".join(digits[i : i + 4] for i in range(0, 32, 4))


def _chain_rows(events) -> Iterator[tuple[int, dict, str, str]]:
    for event in events.order_by("seq").iterator(chunk_size=VERIFY_CHUNK_ROWS):
        yield event.seq, audit_payload(event), event.prev_hash, event.hash


def _first_row_beyond_head():
    # One statement compares rows with the head as they are at that instant; an append commits its
    # row and the head move together, so a legitimate row is never beyond the head in any snapshot.
    head_seq = AuditHead.objects.filter(pk=HEAD_ID).values("seq")[:1]
    return (
        AuditEvent.objects.filter(seq__gt=Subquery(head_seq))
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )


def _head_missing_message():
    return gettext(
        "The audit head row is missing, so rows cut off at the end of the log cannot be detected; "
        "restore the head from a backup."
    )


def _max_length(field_name):
    return AuditEvent._meta.get_field(field_name).max_length


def _fit(text, field_name):
    # Labels come from what people typed or sent; PostgreSQL refuses NUL characters and text
    # longer than the column, SQLite takes both, so both are trimmed here to behave alike.
    return str(text).replace("\x00", "")[: _max_length(field_name)]


class _Counter:
    def __init__(self):
        self.n = 0

    def count(self, iterable):
        for item in iterable:
            self.n += 1
            yield item
