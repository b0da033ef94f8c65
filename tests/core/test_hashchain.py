import datetime as dt
import json
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from pishkhan.core.hashchain import (
    CHANGED,
    DELETED,
    GENESIS,
    TRUNCATED,
    ChainProblem,
    canonical_json,
    chain_hash,
    verify_chain,
)

TEHRAN = ZoneInfo("Asia/Tehran")


@pytest.fixture(autouse=True)
def _english():
    """The sentences are checked in their English source form, whatever LANGUAGE_CODE says."""
    with translation.override("en"):
        yield


def build_chain(count):
    """(seq, payload, prev_hash, hash) rows of a well-formed chain, and its head."""
    rows, prev = [], GENESIS
    for seq in range(1, count + 1):
        payload = {"seq": seq, "what": f"event {seq}", "نام": "پرونده"}
        row_hash = chain_hash(prev, payload)
        rows.append((seq, payload, prev, row_hash))
        prev = row_hash
    head = (rows[-1][0], rows[-1][3]) if rows else (0, GENESIS)
    return rows, head


def kinds(problems):
    return [(problem.seq, problem.kind) for problem in problems]


# --- canonical_json -------------------------------------------------------------------------


def test_canonical_json_sorts_keys_and_drops_whitespace():
    assert (
        canonical_json({"b": 1, "a": [1, {"d": None, "c": True}]}) == b'{"a":[1,{"c":true,"d":null}],"b":1}'
    )


def test_persian_text_is_kept_as_utf8_not_escaped():
    encoded = canonical_json({"نام": "زهرا رضایی"})
    assert encoded == '{"نام":"زهرا رضایی"}'.encode()
    assert b"\\u" not in encoded


def test_datetimes_become_utc_with_microseconds_whatever_their_zone():
    in_tehran = dt.datetime(2026, 3, 21, 10, 0, tzinfo=TEHRAN)
    in_utc = in_tehran.astimezone(dt.UTC)
    assert canonical_json({"at": in_tehran}) == canonical_json({"at": in_utc})
    assert canonical_json({"at": in_utc}) == b'{"at":"2026-03-21T06:30:00.000000Z"}'


def test_a_naive_datetime_is_refused_because_its_instant_is_unknown():
    with pytest.raises(TypeError, match="naive"):
        canonical_json({"at": dt.datetime(2026, 3, 21, 10, 0)})


def test_decimals_uuids_and_dates_become_strings():
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    encoded = canonical_json({"fee": Decimal("1250.50"), "id": key, "day": dt.date(2026, 3, 21)})
    assert json.loads(encoded) == {"fee": "1250.50", "id": str(key), "day": "2026-03-21"}


def test_a_whole_float_is_written_as_an_integer_as_postgresql_gives_it_back():
    assert canonical_json({"n": 1e16}) == canonical_json({"n": 10_000_000_000_000_000})
    assert canonical_json({"n": 2.0}) == b'{"n":2}'
    assert canonical_json({"n": 0.1}) == b'{"n":0.1}'


@pytest.mark.parametrize(
    "payload, error",
    [
        ({"n": float("nan")}, ValueError),
        ({"n": float("inf")}, ValueError),
        ({1: "int key"}, TypeError),
        ({"tags": {"a", "b"}}, TypeError),
        ({"raw": b"bytes"}, TypeError),
    ],
)
def test_values_without_one_json_form_are_refused(payload, error):
    with pytest.raises(error):
        canonical_json(payload)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_a_payload_read_back_from_its_json_encodes_to_the_same_bytes(payload):
    encoded = canonical_json(payload)
    assert canonical_json(json.loads(encoded)) == encoded


# --- chain_hash -----------------------------------------------------------------------------


def test_chain_hash_is_sha256_hex_and_ignores_key_order():
    first = chain_hash(GENESIS, {"a": 1, "b": "ب"})
    assert len(first) == 64 and set(first) <= set("0123456789abcdef")
    assert chain_hash(GENESIS, {"b": "ب", "a": 1}) == first


def test_chain_hash_depends_on_the_previous_hash_and_on_every_field():
    base = chain_hash(GENESIS, {"a": 1})
    assert chain_hash("f" * 64, {"a": 1}) != base
    assert chain_hash(GENESIS, {"a": 2}) != base
    assert chain_hash(GENESIS, {"a": 1, "b": None}) != base


@pytest.mark.parametrize("prev_hash", ["", "0" * 63, "A" * 64, "g" * 64, None])
def test_chain_hash_refuses_a_previous_hash_that_is_not_one(prev_hash):
    with pytest.raises(ValueError, match="prev_hash"):
        chain_hash(prev_hash, {})


# --- verify_chain ---------------------------------------------------------------------------


def test_an_intact_chain_has_no_problems():
    rows, head = build_chain(5)
    assert verify_chain(rows, expected_head=head) == []


def test_an_empty_chain_with_an_empty_head_is_intact():
    assert verify_chain([], expected_head=(0, GENESIS)) == []
    assert verify_chain([], expected_head=None) == []


def test_a_row_edited_in_place_is_reported_changed_and_nothing_else():
    rows, head = build_chain(5)
    seq, payload, prev, row_hash = rows[2]
    rows[2] = (seq, {**payload, "what": "something else"}, prev, row_hash)
    problems = verify_chain(rows, expected_head=head)
    assert kinds(problems) == [(3, CHANGED)]
    assert "#3" in problems[0].message


def test_a_row_edited_with_its_hash_recomputed_breaks_the_link_to_the_next_row():
    rows, head = build_chain(5)
    seq, payload, prev, _ = rows[2]
    forged = {**payload, "what": "forged"}
    rows[2] = (seq, forged, prev, chain_hash(prev, forged))
    assert kinds(verify_chain(rows, expected_head=head)) == [(4, DELETED)]


def test_a_row_deleted_from_the_middle_is_reported_where_the_numbers_jump():
    rows, head = build_chain(5)
    del rows[1]
    problems = verify_chain(rows, expected_head=head)
    assert kinds(problems) == [(3, DELETED)]
    assert "#2" in problems[0].message


def test_a_missing_first_row_is_reported():
    rows, head = build_chain(3)
    assert kinds(verify_chain(rows[1:], expected_head=head)) == [(2, DELETED)]


def test_a_row_deleted_and_the_rest_renumbered_is_reported_as_a_broken_link():
    rows, _ = build_chain(4)
    renumbered, prev = [rows[0]], rows[0][3]
    # A forger removes row 2, then rewrites the payloads of 3 and 4 as 2 and 3 but keeps their
    # old links: every row hashes correctly, yet row 2's link points at the removed row.
    for new_seq, (_, payload, old_prev, _) in enumerate(rows[2:], start=2):
        renumbered_payload = {**payload, "seq": new_seq}
        renumbered.append((new_seq, renumbered_payload, old_prev, chain_hash(old_prev, renumbered_payload)))
        prev = renumbered[-1][3]
    problems = verify_chain(renumbered, expected_head=(3, prev))
    assert (2, DELETED) in kinds(problems)


def test_last_rows_cut_off_are_reported_truncated_against_the_head():
    rows, head = build_chain(5)
    problems = verify_chain(rows[:3], expected_head=head)
    assert kinds(problems) == [(4, TRUNCATED)]
    assert "#3" in problems[0].message and "#5" in problems[0].message


def test_without_a_head_a_cut_off_chain_looks_intact():
    rows, _ = build_chain(5)
    assert verify_chain(rows[:3], expected_head=None) == []


def test_an_emptied_chain_is_reported_truncated():
    _, head = build_chain(2)
    assert kinds(verify_chain([], expected_head=head)) == [(1, TRUNCATED)]


def test_a_last_row_that_does_not_carry_the_heads_hash_is_reported():
    rows, (seq, _) = build_chain(3)
    assert kinds(verify_chain(rows, expected_head=(seq, "e" * 64))) == [(3, CHANGED)]


def test_rows_past_the_head_are_reported():
    rows, _ = build_chain(4)
    head = (2, rows[1][3])
    assert kinds(verify_chain(rows, expected_head=head)) == [(3, CHANGED)]


def test_an_anchor_recorded_outside_catches_a_rewrite_of_the_whole_chain():
    original, _ = build_chain(3)
    anchor = (2, original[1][3])
    rewritten, prev = [], GENESIS
    for seq in range(1, 4):
        payload = {"seq": seq, "what": "rewritten"}
        rewritten.append((seq, payload, prev, chain_hash(prev, payload)))
        prev = rewritten[-1][3]
    head = (3, prev)
    assert verify_chain(rewritten, expected_head=head) == []
    assert kinds(verify_chain(rewritten, expected_head=head, anchor=anchor)) == [(2, CHANGED)]
    assert verify_chain(original, expected_head=(3, original[2][3]), anchor=anchor) == []


def test_an_anchor_past_the_end_of_a_chain_rewound_with_its_head_reports_truncation():
    rows, _ = build_chain(5)
    anchor = (5, rows[4][3])
    assert kinds(verify_chain(rows[:3], expected_head=(3, rows[2][3]), anchor=anchor)) == [(4, TRUNCATED)]


def test_a_malformed_prev_hash_is_reported_not_raised():
    rows, head = build_chain(2)
    seq, payload, _, row_hash = rows[1]
    rows[1] = (seq, payload, "not a hash", row_hash)
    assert kinds(verify_chain(rows, expected_head=head)) == [(2, CHANGED), (2, DELETED)]


def test_rows_out_of_order_are_a_callers_mistake():
    rows, head = build_chain(3)
    with pytest.raises(ValueError, match="ascending"):
        verify_chain(list(reversed(rows)), expected_head=head)


def test_the_rows_are_read_once_from_a_stream():
    rows, head = build_chain(1000)
    stream = iter(rows)
    assert verify_chain(stream, expected_head=head) == []
    assert next(stream, None) is None


def test_a_problem_reads_as_one_line():
    assert str(ChainProblem(3, CHANGED, "Row #3 was changed.")) == "#3 changed: Row #3 was changed."
