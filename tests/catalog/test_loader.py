import json
from pathlib import Path

import pytest
from django.utils import translation
from jsonschema import Draft202012Validator

from pishkhan.catalog.definition import definition_to_dict
from pishkhan.catalog.loader import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    LineMap,
    Problem,
    load_definition_bytes,
    load_definition_file,
    load_definition_text,
    load_yaml_text,
    schema_load,
    schema_path,
    schema_problems,
)
from pishkhan.catalog.validation import validate_definition

GOOD = Path(__file__).parent / "good"
EXCAVATION = GOOD / "excavation-permit.yaml"
SMALL = """\
schema: pishkhan/process/1
code: certificate-copy
version: 1
title: {fa: المثنی گواهی}
start: check
steps:
  - id: check
    role: clerk
    kind: review
    deadline_days: 1
    discretionary: true
    outcomes:
      - {outcome: approve, to: done}
      - {outcome: reject, to: refused}
  - {id: done, kind: end, result: approved}
  - {id: refused, kind: end, result: rejected}
"""


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# -- Problem and LineMap ---------------------------------------------------------------------------


def test_a_problem_reads_as_file_line_path_message_and_hint():
    problem = Problem(file="a.yaml", line=12, path="steps[3].role", message="unknown role", hint="declare it")
    assert str(problem) == "a.yaml:12: steps[3].role: unknown role (declare it)"
    assert problem.severity == "error" and problem.is_error


def test_a_problem_leaves_out_what_it_does_not_have():
    assert (
        str(Problem(file="a.yaml", line=None, path="", message="the file is empty"))
        == "a.yaml: the file is empty"
    )


def test_the_line_map_falls_back_to_the_nearest_ancestor():
    lines = LineMap({"": 1, "steps": 6, "steps[2]": 14, "steps[2].role": 16})
    assert lines.line("steps[2].role") == 16
    assert lines.line("steps[2].outcomes[0].to") == 14
    assert lines.line("steps[7]") == 6
    assert lines.line("code") == 1
    assert LineMap().line("code") is None


# -- YAML ------------------------------------------------------------------------------------------


def test_a_definition_loads_with_the_line_of_every_field():
    data, lines, problems = load_yaml_text(SMALL, filename="small.yaml")
    assert problems == []
    assert data["steps"][0]["outcomes"][1] == {"outcome": "reject", "to": "refused"}
    assert lines.line("code") == 2
    assert lines.line("steps[0]") == 7
    assert lines.line("steps[0].role") == 8
    assert lines.line("steps[0].outcomes[1]") == 14
    assert lines.line("steps[0].outcomes[1].to") == 14
    assert lines.line("steps[2].result") == 16


def test_scalars_follow_the_yaml_1_2_core_schema():
    text = (
        "a: yes\nb: on\nc: 0o17\nd: 0x1F\ne: 1e3\nf: .inf\ng: 2025-03-21\n"
        "h: ~\ni: TRUE\nj: '12'\nk: !!str 12\nl: -4.5\nm: 007\n"
    )
    data, _, problems = load_yaml_text(text, filename="t.yaml")
    assert problems == []
    assert data == {
        "a": "yes",
        "b": "on",
        "c": 15,
        "d": 31,
        "e": 1000.0,
        "f": ".inf",
        "g": "2025-03-21",
        "h": None,
        "i": True,
        "j": "12",
        "k": "12",
        "l": -4.5,
        "m": 7,
    }


def test_block_and_quoted_texts_stay_text():
    data, _, _ = load_yaml_text('a: |\n  two\n  lines\nb: "null"\nc: >\n  folded\n', filename="t.yaml")
    assert data == {"a": "two\nlines\n", "b": "null", "c": "folded\n"}


def test_a_python_tag_is_refused_and_never_constructed(tmp_path):
    marker = tmp_path / "owned"
    text = f"steps: !!python/object/apply:builtins.open ['{marker}', 'w']\n"
    data, _, problems = load_yaml_text(text, filename="evil.yaml")
    assert data is None
    assert "!!python/object/apply:builtins.open" in problems[0].message
    assert not marker.exists()


def test_an_unknown_tag_on_a_collection_is_refused():
    data, _, problems = load_yaml_text("steps: !!set {a, b}\n", filename="t.yaml")
    assert data is None and "tag" in problems[0].message


def test_small_anchors_and_aliases_are_expanded():
    text = "title: &t {fa: مجوز}\ndescription: *t\nkeywords: [&k حفاری, *k]\n"
    data, _, problems = load_yaml_text(text, filename="t.yaml")
    assert problems == []
    assert data["description"] == {"fa": "مجوز"}
    assert data["keywords"] == ["حفاری", "حفاری"]


def test_a_billion_laughs_is_refused_before_it_expands():
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
    data, _, problems = load_yaml_text("\n".join(lines) + "\n", filename="lol.yaml")
    assert data is None
    assert "expands to more than" in problems[-1].message


def test_a_self_referencing_alias_is_refused():
    data, _, problems = load_yaml_text("a: &x [1, *x]\n", filename="t.yaml")
    assert data is None and "*x" in problems[0].message


def test_duplicate_keys_are_reported_and_the_first_value_kept():
    data, _, problems = load_yaml_text("code: first\nversion: 1\ncode: second\n", filename="t.yaml")
    assert data == {"code": "first", "version": 1}
    assert problems[0].line == 3
    assert "appears twice" in problems[0].message and "line 1" in problems[0].message


def test_merge_keys_are_refused():
    data, _, problems = load_yaml_text("base: &b {a: 1}\nother:\n  <<: *b\n", filename="t.yaml")
    assert data is None and "merge keys" in problems[0].message


def test_deep_nesting_is_refused_without_recursion():
    for text in ("a: " + "[" * 100_000, "a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)):
        data, _, problems = load_yaml_text(text, filename="deep.yaml")
        assert data is None
        assert problems and problems[-1].severity == "error"


def test_a_huge_text_is_refused_before_parsing():
    data, _, problems = load_yaml_text("a: b\n" * (MAX_FILE_BYTES // 4), filename="huge.yaml")
    assert data is None and "larger than" in problems[0].message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("- a\n- b\n", "not a list"),
        ("42\n", "not a single value"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("a: [1, 2\n", "YAML syntax error"),
        ("a: 'open\n", "YAML syntax error"),
        ("a:\n\tb: 1\n", "YAML syntax error"),
        ("a: \x00\n", "does not allow"),
        ("? [a, b]\n: 1\n", "plain text"),
        ("*x: 1\n", "alias"),
    ],
)
def test_unreadable_yaml_is_a_problem_never_an_exception(text, expected):
    data, _, problems = load_yaml_text(text, filename="bad.yaml")
    assert data is None
    assert expected in str(problems[-1])
    assert problems[-1].file == "bad.yaml"


def test_a_tab_gets_a_hint_about_spaces():
    _, _, problems = load_yaml_text("a:\n\tb: 1\n", filename="bad.yaml")
    assert problems[0].line == 2
    assert "spaces, not tabs" in problems[0].hint


# -- files and bytes ---------------------------------------------------------------------------------


def test_a_file_that_is_not_utf8_says_where():
    raw = "code: x\ntitle: {fa: مجوز حفاري}\n".encode("cp1256")
    result = load_definition_bytes(raw, filename="old.yaml")
    assert result.data is None and not result.ok
    assert result.problems[0].line == 2
    assert "not UTF-8" in result.problems[0].message


def test_a_byte_order_mark_is_allowed():
    result = load_definition_bytes(b"\xef\xbb\xbf" + SMALL.encode(), filename="bom.yaml")
    assert result.ok, [str(p) for p in result.problems]


def test_a_missing_file_is_a_problem(tmp_path):
    result = load_definition_file(tmp_path / "nope.yaml")
    assert result.data is None
    assert "cannot be read" in result.problems[0].message


def test_a_file_over_the_size_limit_is_not_read(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    result = load_definition_file(path)
    assert "larger than" in result.problems[0].message


# -- definitions -----------------------------------------------------------------------------------


def test_a_good_definition_loads_into_a_definition():
    result = load_definition_file(EXCAVATION)
    assert result.ok, [str(p) for p in result.problems]
    assert result.format == "pishkhan/process/1"
    assert result.definition.code == "excavation-permit"
    assert result.definition.step("reviews").branches == ["traffic_review", "utilities_review"]
    assert result.lines.line("steps[0].outcomes[1].to") == 60


def test_loading_runs_the_semantic_checks_too():
    text = SMALL.replace("role: clerk", "role: golden_signer")
    result = load_definition_text(text, filename="t.yaml")
    assert not result.ok
    assert result.definition is not None  # it passed the schema; the role is a semantic problem
    assert any("golden_signer" in p.message and p.line == 8 for p in result.problems)


def test_known_roles_are_passed_to_the_semantic_checks():
    text = SMALL.replace("role: clerk", "role: archivist")
    assert load_definition_text(text, filename="t.yaml", known_roles={"archivist"}).ok


def test_a_schema_error_leaves_no_definition():
    result = load_definition_text(SMALL.replace("kind: review", "kind: reveiw"), filename="t.yaml")
    assert result.definition is None
    assert result.problems[0].path == "steps[0].kind"
    assert result.problems[0].line == 9
    assert result.problems[0].hint == "did you mean `review`?"


def test_a_variant_is_recognised_by_its_schema_key():
    result = load_definition_file(GOOD / "variants" / "excavation-permit.d07.yaml")
    assert result.ok and result.is_variant
    assert result.definition is None  # a variant becomes a definition only over its standard process


def test_an_unknown_format_is_a_problem_on_the_schema_line():
    result = load_definition_text(SMALL.replace("process/1", "process/9"), filename="t.yaml")
    assert [(p.path, p.line) for p in result.problems] == [("schema", 1)]
    assert "pishkhan/process/1" in result.problems[0].hint


# -- the JSON Schema -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["process-1", "variant-1"])
def test_the_schemas_are_valid_draft_2020_12(name):
    assert schema_path(name).exists()
    assert schema_path(f"{name}.json") == schema_path(name)
    Draft202012Validator.check_schema(json.loads(schema_path(name).read_text(encoding="utf-8")))


def test_a_schema_can_be_named_by_its_format():
    assert schema_path("pishkhan/process/1").name == "process-1.json"
    with pytest.raises(KeyError):
        schema_path("../../settings")


def test_the_schema_knows_every_step_kind_and_field_type_of_the_format():
    from pishkhan.catalog.definition import END_KIND, FIELD_TYPES, GATEWAY_KINDS, OUTCOMES, WORK_KINDS

    defs = schema_load("process-1")["$defs"]
    assert set(defs["stepFields"]["properties"]["kind"]["enum"]) == {*WORK_KINDS, *GATEWAY_KINDS, END_KIND}
    assert set(defs["field"]["properties"]["type"]["enum"]) == set(FIELD_TYPES)
    assert set(defs["outcome"]["properties"]["outcome"]["enum"]) == set(OUTCOMES)


def test_a_typo_in_a_key_gets_a_did_you_mean():
    data, lines, _ = load_yaml_text(SMALL.replace("deadline_days", "dedline_days"), filename="t.yaml")
    problems = schema_problems(data, format_name="pishkhan/process/1", filename="t.yaml", lines=lines)
    typo = next(p for p in problems if p.path == "steps[0].dedline_days")
    assert typo.line == 10
    assert typo.hint == "did you mean `deadline_days`?"


def test_a_key_that_does_not_belong_to_the_kind_is_named():
    text = SMALL.replace(
        "{id: done, kind: end, result: approved}", "{id: done, kind: end, result: approved, role: clerk}"
    )
    result = load_definition_text(text, filename="t.yaml")
    assert [p.path for p in result.problems] == ["steps[1].role"]
    assert "does not belong on a step of kind `end`" in result.problems[0].message


def test_the_canonical_dict_of_a_good_definition_passes_validation_again():
    for path in sorted(GOOD.glob("*.y*ml")):
        definition = load_definition_file(path).definition
        problems = validate_definition(definition_to_dict(definition), filename=path.name)
        assert [str(p) for p in problems if p.severity == "error"] == []
