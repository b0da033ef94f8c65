"""Hostile and random input never crashes the loader, the validator or the expressions: whatever
goes in, what comes out is a LoadResult or a list of Problems (or, for expressions, a value or an
ExpressionError). Crashers hypothesis finds are kept in fuzz_corpus/ and replayed by name.

The suite runs 200 examples per test; for a longer hunt, `PISHKHAN_FUZZ_EXAMPLES=5000 pytest
tests/catalog/test_fuzz.py`."""

import copy
import json
import os
from pathlib import Path

import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pishkhan.catalog.expressions import (
    ExpressionError,
    expression_check,
    expression_evaluate,
    expression_names,
)
from pishkhan.catalog.loader import LoadResult, Problem, load_definition_bytes, load_definition_text
from pishkhan.catalog.validation import apply_variant, validate_definition, validate_variant

HERE = Path(__file__).parent
GOOD_TEXT = (HERE / "good" / "excavation-permit.yaml").read_text(encoding="utf-8")
GOOD_DATA = load_definition_text(GOOD_TEXT, filename="good.yaml").data
FUZZ_CORPUS = sorted((HERE / "fuzz_corpus").glob("*")) if (HERE / "fuzz_corpus").is_dir() else []

FUZZ = settings(
    max_examples=int(os.environ.get("PISHKHAN_FUZZ_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def assert_clean(problems: list) -> None:
    assert isinstance(problems, list)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.severity in ("error", "warning")
        assert "internal error" not in problem.message, str(problem)
        str(problem)  # every problem can be shown


def assert_loaded(result: LoadResult) -> None:
    assert isinstance(result, LoadResult)
    assert_clean(result.problems)
    if result.data is None:
        assert not result.ok and result.problems


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=30,
)


# -- bytes and text ----------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=2000))
def test_random_bytes_never_crash_the_loader(raw):
    assert_loaded(load_definition_bytes(raw, filename="random.yaml"))


@FUZZ
@given(st.text(max_size=2000))
def test_random_text_never_crashes_the_loader(text):
    assert_loaded(load_definition_text(text, filename="random.yaml"))


@FUZZ
@given(
    st.lists(
        st.sampled_from(["-", ":", " ", "\n", "[", "]", "{", "}", "&a", "*a", "!!", "'", '"', "#", "a", "1"])
    )
)
def test_yaml_punctuation_soup_never_crashes_the_loader(pieces):
    assert_loaded(load_definition_text("".join(pieces), filename="soup.yaml"))


# -- mutations of a good definition ------------------------------------------------------------------

GOOD_BYTES = GOOD_TEXT.encode("utf-8")
GOOD_LINES = GOOD_TEXT.splitlines(keepends=True)


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(GOOD_BYTES) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_byte_flips_in_a_good_definition_never_crash(flips):
    raw = bytearray(GOOD_BYTES)
    for position, value in flips:
        raw[position] = value
    assert_loaded(load_definition_bytes(bytes(raw), filename="flipped.yaml"))


@FUZZ
@given(st.integers(0, len(GOOD_BYTES)))
def test_a_truncated_good_definition_never_crashes(length):
    assert_loaded(load_definition_bytes(GOOD_BYTES[:length], filename="truncated.yaml"))


@FUZZ
@given(st.permutations(range(len(GOOD_LINES))).map(lambda order: order[: len(order) // 2 + 1]))
def test_shuffled_and_dropped_lines_never_crash(order):
    assert_loaded(load_definition_text("".join(GOOD_LINES[i] for i in order), filename="shuffled.yaml"))


@FUZZ
@given(
    st.lists(
        st.tuples(st.integers(0, len(GOOD_LINES) - 1), st.sampled_from(["dup", "drop", "indent", "dedent"]))
    )
)
def test_line_edits_in_a_good_definition_never_crash(edits):
    lines = list(GOOD_LINES)
    for index, edit in edits:
        if index >= len(lines):
            continue
        if edit == "dup":
            lines.insert(index, lines[index])
        elif edit == "drop":
            del lines[index]
        elif edit == "indent":
            lines[index] = "  " + lines[index]
        else:
            lines[index] = lines[index][2:] if lines[index].startswith("  ") else lines[index]
    assert_loaded(load_definition_text("".join(lines), filename="edited.yaml"))


# -- structures ----------------------------------------------------------------------------------------


@FUZZ
@given(json_values)
def test_random_structures_never_crash_the_validator(data):
    assert_clean(validate_definition(data, filename="random"))


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


GOOD_PATHS = [path for path in _paths(GOOD_DATA) if path]


def _replace(data, path, value):
    data = copy.deepcopy(data)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(GOOD_PATHS), json_values), min_size=1, max_size=3))
def test_a_good_definition_with_random_parts_never_crashes_the_validator(replacements):
    data = GOOD_DATA
    for path, value in replacements:
        try:
            data = _replace(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    assert_clean(validate_definition(data, filename="mutated"))


step_ids = st.sampled_from([s["id"] for s in GOOD_DATA["steps"]] + ["ghost", "x"])


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "remove_steps": st.lists(step_ids, max_size=3) | json_values,
            "change_steps": st.dictionaries(
                step_ids,
                st.dictionaries(
                    st.sampled_from(["to", "role", "kind", "outcomes", "deadline_days", "branches"]),
                    json_values,
                    max_size=3,
                ),
                max_size=3,
            )
            | json_values,
            "add_steps": st.lists(json_values, max_size=2) | json_values,
        },
    )
)
def test_random_variants_never_crash(patch):
    variant = {
        "schema": "pishkhan/variant/1",
        "variant_of": "excavation-permit",
        "version": 1,
        "district": "d07",
    }
    variant.update(patch)
    merged = apply_variant(GOOD_DATA, variant)
    assert isinstance(merged, dict)
    assert_clean(validate_variant(variant, base=GOOD_DATA, filename="variant"))


# -- expressions ---------------------------------------------------------------------------------------

expression_pieces = st.sampled_from(
    [
        "a",
        "b",
        "owners",
        "1",
        "2.5",
        "'x'",
        "true",
        "null",
        "+",
        "-",
        "*",
        "/",
        "%",
        "==",
        "<",
        "&&",
        "||",
        "!",
        "?",
        ":",
        "(",
        ")",
        "[",
        "]",
        "{",
        "}",
        ".",
        ",",
        "size(",
        "int(",
        "double(",
        ".all(o,",
        ".map(o,",
        "o",
        "has(",
        " in ",
    ]
)


@FUZZ
@given(st.text(max_size=300) | st.lists(expression_pieces, max_size=40).map("".join))
def test_random_expressions_never_crash_checking(source):
    result = expression_check(source)
    assert result is None or isinstance(result, str)
    assert isinstance(expression_names(source), set)


@FUZZ
@given(
    st.lists(expression_pieces, max_size=30).map("".join),
    st.fixed_dictionaries({"a": json_values, "b": json_values, "owners": json_values}),
)
def test_random_expressions_evaluate_to_a_value_or_an_expression_error(source, values):
    try:
        result = expression_evaluate(source, values)
    except ExpressionError as error:
        assert str(error)
    else:
        json.dumps(result)  # plain data only


@pytest.mark.parametrize("path", FUZZ_CORPUS, ids=lambda p: p.name)
def test_crashers_found_by_fuzzing_stay_fixed(path):
    assert_loaded(load_definition_bytes(path.read_bytes(), filename=path.name))
