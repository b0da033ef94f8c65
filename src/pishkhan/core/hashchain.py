"""A hash chain: each row's hash covers its content and the hash of the row before, so changing,
removing or cutting off rows shows up when the chain is walked again.

Generic on purpose: the security audit log (core.audit) uses it now, and the case engine will use it
for each case's event log. A chain starts after GENESIS with sequence number 1 and counts up by one.

    payload = {"seq": 1, "at": now, ...}          # every field the hash must protect, seq included
    row_hash = chain_hash(GENESIS, payload)
    problems = verify_chain(rows, expected_head=(last_seq, last_hash))

A writer on a hot path can hand over a payload already in JSON's own types — json_plain() for
nested data, moment_text() for datetimes — with chain_hash(..., plain=True): same bytes, less work.
"""

import datetime
import functools
import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext

GENESIS = "0" * 64
_HASH = re.compile(r"[0-9a-f]{64}")

# Kinds of problem verify_chain reports.
CHANGED = "changed"  # a row's hash does not match its content: the row was edited
DELETED = "deleted"  # a sequence number is missing, or a row does not link to the one before
TRUNCATED = "truncated"  # the chain stops before the head (or an outside record) says it should


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong with a chain: the sequence number where it shows, its kind (CHANGED, DELETED
    or TRUNCATED) and a sentence a person can act on."""

    seq: int
    kind: str
    message: str

    def __str__(self):
        return f"#{self.seq} {self.kind}: {self.message}"


def canonical_json(payload: dict) -> bytes:
    """The one byte string a payload hashes as: JSON with sorted keys, no whitespace, UTF-8 (Persian
    text stays readable, not \\u-escaped).

    Values a database hands back differently from how they went in are pinned down first, so a row
    hashes the same when written and when read back from SQLite or PostgreSQL:
    aware datetimes become ISO-8601 UTC with microseconds ("2026-03-21T06:30:00.000000Z"); dates
    ISO-8601; Decimals and UUIDs strings; tuples lists; a float with no fractional part an integer
    (PostgreSQL's jsonb returns 1e16 as 10000000000000000).

    Raises TypeError for a value with no single JSON form (naive datetime, set, bytes, an object,
    a non-string key) and ValueError for NaN or infinity.
    """
    return _ENCODER.encode(_plain(payload)).encode("utf-8")


# One encoder for every call: json.dumps builds a new one whenever it is given options.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def json_plain(value):
    """`value` in JSON's own types, exactly as canonical_json writes it: what
    json.loads(canonical_json(value)) gives back, without the round trip (dicts keep their own key
    order, which the canonical form ignores). Raises TypeError as canonical_json does; NaN and
    infinity pass here and are refused when the value is hashed."""
    return _plain(value)


@functools.lru_cache(maxsize=4096)
def moment_text(value: datetime.datetime) -> str:
    """canonical_json's text for an aware datetime: ISO-8601 UTC with microseconds and a Z.
    Remembered, since the moments of one row (and of the rows written together) often repeat."""
    if value.utcoffset() is None:
        raise TypeError(f"canonical_json refuses the naive datetime {value!r}: give it a time zone")
    return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _plain(value):
    # Exact types first: every event of every case goes through here, and isinstance against a
    # union of types costs several times a type lookup. Subclasses take the general path below.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        for key in value:
            if type(key) is not str and not isinstance(key, str):
                raise TypeError(f"canonical_json needs string keys, got {key!r}")
        return {key: _plain(item) for key, item in value.items()}
    if kind is list:
        return [_plain(item) for item in value]
    # bool before int/float: True is an int in Python, and must stay true in JSON.
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                # JSON keys are strings; 10 and 9 sort differently from "10" and "9", so a dict with
                # int keys would hash differently once the database gives it back.
                raise TypeError(f"canonical_json needs string keys, got {key!r}")
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return moment_text(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    raise TypeError(f"canonical_json cannot represent {type(value).__name__} {value!r}")


def chain_hash(prev_hash: str, payload: dict, *, plain: bool = False) -> str:
    """SHA-256 (64 lowercase hex digits) over the previous row's hash followed by the payload's
    canonical JSON. prev_hash is GENESIS for the first row; anything but 64 lowercase hex digits
    raises ValueError, which keeps the two parts of the hashed bytes unambiguous.

    `plain`: the payload holds only what json_plain gives (JSON's own types, floats with no
    fractional part already made integers) and moment_text's strings for datetimes, so it is
    encoded as it is, skipping the conversion; the bytes are the same."""
    if not isinstance(prev_hash, str) or not _HASH.fullmatch(prev_hash):
        raise ValueError(f"prev_hash must be 64 lowercase hex digits, got {prev_hash!r}")
    text = _ENCODER.encode(payload).encode("utf-8") if plain else canonical_json(payload)
    return hashlib.sha256(prev_hash.encode("ascii") + text).hexdigest()


def verify_chain(
    rows: Iterable[tuple[int, dict, str, str]],
    *,
    expected_head: tuple[int, str] | None,
    anchor: tuple[int, str] | None = None,
) -> list[ChainProblem]:
    """Walk a chain and list what is wrong with it; an empty list means it is intact.

    rows: (seq, payload, prev_hash, hash) in ascending seq order, read once (a streaming iterator is
    fine: only the previous row is kept). expected_head: the (seq, hash) the chain's head records, or
    None when there is no head to compare with (then a chain cut off at its end cannot be told).
    anchor: optionally a (seq, hash) recorded outside the database earlier; the row at seq must
    still carry that hash, which catches a rewrite of the whole chain together with its head.

    Reports CHANGED for a row whose hash does not match its content; DELETED where sequence
    numbers jump, or where a row's prev_hash is not the hash of the row before; TRUNCATED when the
    chain ends before the head's (or the anchor's) sequence number; CHANGED when the row at the
    head's sequence number does not carry the head's hash, or rows go on past the head.
    Raises ValueError if rows are not in ascending seq order (a caller's mistake, not tampering).
    """
    problems = []
    last_seq, last_hash = 0, GENESIS
    head_seq, head_hash = expected_head if expected_head is not None else (None, None)
    anchor_seq, anchor_hash = anchor if anchor is not None else (None, None)

    for seq, payload, prev_hash, row_hash in rows:
        if seq <= last_seq:
            raise ValueError(f"verify_chain needs rows in ascending seq order: #{seq} came after #{last_seq}")
        if not _content_matches(prev_hash, payload, row_hash):
            problems.append(ChainProblem(seq, CHANGED, _changed_message(seq)))
        if seq != last_seq + 1:
            problems.append(ChainProblem(seq, DELETED, _gap_message(last_seq + 1, seq - 1)))
        elif prev_hash != last_hash:
            # Numbers are contiguous but the link is broken: a row was removed and the later ones
            # renumbered, or the row before was rewritten together with its own hash.
            problems.append(
                ChainProblem(
                    seq,
                    DELETED,
                    gettext(
                        "Row #%(seq)s does not link to the row before it: a row was deleted and the "
                        "rest renumbered, or row #%(prev)s was rewritten."
                    )
                    % {"seq": seq, "prev": last_seq},
                )
            )
        if seq == head_seq and row_hash != head_hash:
            problems.append(
                ChainProblem(
                    seq,
                    CHANGED,
                    gettext(
                        "Row #%(seq)s does not carry the hash the head records: the last row or the "
                        "head was rewritten."
                    )
                    % {"seq": seq},
                )
            )
        if seq == anchor_seq and row_hash != anchor_hash:
            problems.append(
                ChainProblem(
                    seq,
                    CHANGED,
                    gettext(
                        "Row #%(seq)s does not carry the hash recorded outside the database "
                        "(%(expected)s…): the log was rewritten."
                    )
                    % {"seq": seq, "expected": anchor_hash[:16]},
                )
            )
        if head_seq is not None and last_seq == head_seq:
            problems.append(
                ChainProblem(
                    seq,
                    CHANGED,
                    gettext(
                        "Row #%(seq)s lies beyond the head (#%(head)s): it was added without going "
                        "through the service that keeps the head."
                    )
                    % {"seq": seq, "head": head_seq},
                )
            )
        last_seq, last_hash = seq, row_hash

    if head_seq is not None and last_seq < head_seq:
        problems.append(ChainProblem(last_seq + 1, TRUNCATED, _truncated_message(last_seq, head_seq)))
    elif anchor_seq is not None and last_seq < anchor_seq:
        problems.append(ChainProblem(last_seq + 1, TRUNCATED, _truncated_message(last_seq, anchor_seq)))
    return problems


def _content_matches(prev_hash, payload, row_hash):
    try:
        return chain_hash(prev_hash, payload) == row_hash
    except ValueError:
        # A prev_hash that is not a hash at all was edited by hand: that row was changed.
        return False


def _changed_message(seq):
    return gettext("Row #%(seq)s was changed after it was written: its hash does not match its content.") % {
        "seq": seq
    }


def _gap_message(first, last):
    if first == last:
        return gettext("Row #%(first)s is missing: it was deleted.") % {"first": first}
    return gettext("Rows #%(first)s to #%(last)s are missing: they were deleted.") % {
        "first": first,
        "last": last,
    }


def _truncated_message(last_seq, expected_seq):
    if last_seq == 0:
        return gettext("The log is empty, but row #%(expected)s was written: the rows were cut off.") % {
            "expected": expected_seq
        }
    return gettext(
        "The log ends at row #%(last)s, but row #%(expected)s was written: the last rows were cut off."
    ) % {"last": last_seq, "expected": expected_seq}
