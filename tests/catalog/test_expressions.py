import decimal
import itertools

import pytest
from django.utils import translation

from pishkhan.catalog.expressions import (
    MAX_EXPRESSION_LENGTH,
    MAX_VALUE_ITEMS,
    ExpressionError,
    _compile_in,
    expression_check,
    expression_evaluate,
    expression_names,
    expression_references,
    fee_amount,
)

EXCAVATION_FEE = "length_m * (surface == 'asphalt' ? 4500000 : 2000000)"


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


# -- checking ----------------------------------------------------------------------------------------


def test_a_fee_from_the_format_guide_compiles():
    assert expression_check(EXCAVATION_FEE) is None
    assert expression_check("night_work == true") is None
    assert expression_check("owners.all(o, o.share > 0) && size(owners) <= 10") is None


def test_a_syntax_error_says_at_which_column():
    message = expression_check("length_m * * 2")
    assert "syntax error" in message
    assert "column 12" in message


def test_an_expression_that_ends_too_early_is_a_syntax_error():
    assert "syntax error" in expression_check("area >")


def test_an_empty_or_non_text_expression_is_refused():
    assert "empty" in expression_check("   ")
    assert expression_check(42) == "an expression must be text"


def test_an_expression_longer_than_the_limit_is_refused_before_parsing():
    source = "+".join(["1"] * (MAX_EXPRESSION_LENGTH // 2 + 1))
    assert "longer than" in expression_check(source)


def test_deeply_nested_brackets_and_negations_are_refused_not_crashed():
    assert "nested too deeply" in expression_check("(" * 500 + "1" + ")" * 500)
    assert "nested too deeply" in expression_check("!" * 1500 + "true")


def test_only_the_allowed_functions_and_methods_may_be_called():
    assert "unknown function `__import__`" in expression_check("__import__('os')")
    assert "unknown function `type`" in expression_check("type(1) == int")
    assert "unknown function `duration`" in expression_check("duration('1s')")
    assert "unknown method `.reduce()`" in expression_check("[1, 2].reduce(a, b, 0, a + b)")
    assert "unknown method `.system()`" in expression_check("os.system('id')")


def test_building_protobuf_messages_is_refused():
    assert "not supported" in expression_check("google.protobuf.Int32Value{value: 1}")


def test_a_function_used_as_a_value_is_refused():
    assert "is a CEL function" in expression_check("size")


def test_a_macro_needs_a_variable_name_first():
    assert "takes a variable name" in expression_check("owners.all(1, true)")


def test_compiled_expressions_are_cached():
    before = _compile_in.cache_info().hits
    expression_check("cached_field > 1")
    expression_check("cached_field > 1")
    assert _compile_in.cache_info().hits > before


# -- names ---------------------------------------------------------------------------------------------


def test_names_are_the_top_level_identifiers_an_expression_reads():
    assert expression_names(EXCAVATION_FEE) == {"length_m", "surface"}


def test_a_field_selection_reads_its_root():
    assert expression_names("contractor.name.size() > 0 && has(site.area)") == {"contractor", "site"}
    assert expression_references("contractor.name == 'x'") == {("contractor", "name")}


def test_variables_bound_by_macros_are_not_names():
    assert expression_names("owners.all(o, o.share > min_share)") == {"owners", "min_share"}
    assert expression_names("owners.exists(o, o == o)") == {"owners"}


def test_cel_builtins_are_not_names():
    assert expression_names("size(items) > 0 && flag == true && other != null") == {"items", "flag", "other"}


def test_a_root_scoped_name_counts_as_a_name():
    assert expression_names(".area > 1") == {"area"}


def test_an_expression_that_does_not_compile_reads_nothing():
    assert expression_names("a +") == set()


# -- evaluating ----------------------------------------------------------------------------------------


def test_the_excavation_fee_is_computed_from_the_form_values():
    assert expression_evaluate(EXCAVATION_FEE, {"length_m": 3, "surface": "asphalt"}) == 13_500_000
    assert expression_evaluate(EXCAVATION_FEE, {"length_m": 3, "surface": "sidewalk"}) == 6_000_000


def test_results_come_back_as_plain_python_values():
    assert type(expression_evaluate("1 + 2", {})) is int
    assert type(expression_evaluate("1.5 * 2.0", {})) is float
    assert type(expression_evaluate("1 < 2", {})) is bool
    assert type(expression_evaluate("'a' + 'b'", {})) is str
    assert expression_evaluate("x", {"x": [1, {"a": 2.5}]}) == [1, {"a": 2.5}]


def test_a_group_is_read_as_a_map_and_a_repeating_group_as_a_list():
    values = {"contractor": {"name": "Pars"}, "owners": [{"share": 2}, {"share": 4}]}
    assert expression_evaluate("contractor.name == 'Pars'", values) is True
    assert expression_evaluate("owners.all(o, o.share > 0) && size(owners) == 2", values) is True


def test_only_the_names_an_expression_reads_are_converted():
    # An unreadable value elsewhere in the form does not matter to an expression that does not read it.
    assert expression_evaluate("a + 1", {"a": 1, "photo": object()}) == 2
    with pytest.raises(ExpressionError, match="type expressions cannot read"):
        expression_evaluate("photo == 1", {"photo": object()})


def test_decimals_and_dates_are_readable():
    import datetime

    assert expression_evaluate("price * 2", {"price": decimal.Decimal("10")}) == 20
    assert expression_evaluate("price * 2.0", {"price": decimal.Decimal("1.5")}) == 3.0
    assert expression_evaluate("day >= '2025-03-21'", {"day": datetime.date(2025, 3, 21)}) is True


def test_a_missing_name_is_a_clear_error():
    with pytest.raises(ExpressionError, match="unknown name `area`"):
        expression_evaluate("area > 1", {})


def test_mixing_int_and_double_says_how_to_convert():
    with pytest.raises(ExpressionError, match=r"`\*` does not apply to int and double"):
        expression_evaluate("length_m * 2.5", {"length_m": 3})
    assert expression_evaluate("double(length_m) * 2.5", {"length_m": 3}) == 7.5


def test_division_by_zero_and_overflow_are_clear_errors():
    with pytest.raises(ExpressionError, match="division by zero"):
        expression_evaluate("1 / zero", {"zero": 0})
    with pytest.raises(ExpressionError, match="too large"):
        expression_evaluate("9223372036854775807 + 1", {})


def test_an_expression_that_does_not_compile_cannot_be_evaluated():
    with pytest.raises(ExpressionError, match="syntax error"):
        expression_evaluate("a +", {"a": 1})


def test_error_messages_do_not_leak_the_form_values():
    with pytest.raises(ExpressionError) as caught:
        expression_evaluate("secret.x", {"secret": "0012345679"})
    assert "0012345679" not in str(caught.value)


# -- the sandbox -------------------------------------------------------------------------------------


def test_python_builtins_are_out_of_reach():
    for source in ("__import__('os')", "eval('1')", "open('/etc/passwd')", "getattr(x, '__class__')"):
        with pytest.raises(ExpressionError, match="unknown function"):
            expression_evaluate(source, {"x": 1})


def test_attributes_of_python_objects_are_out_of_reach():
    for source in ("'abc'.__class__", "x.__class__", "x.__dict__", "(1).real"):
        with pytest.raises(ExpressionError):
            expression_evaluate(source, {"x": "text"})


def test_a_dunder_key_of_a_group_is_just_data():
    assert expression_evaluate("g.__class__", {"g": {"__class__": "harmless"}}) == "harmless"


def test_cel_values_that_are_not_data_are_refused_as_results():
    with pytest.raises(ExpressionError, match="cannot use"):
        expression_evaluate("b'bytes'", {})


def test_nested_macros_over_literal_lists_run_out_of_steps():
    ten = "[0,1,2,3,4,5,6,7,8,9]"
    source = f"{ten}.map(a, {ten}.map(b, {ten}.map(c, {ten}.map(d, {ten}.map(e, a + b + c + d + e)))))"
    with pytest.raises(ExpressionError, match="steps to evaluate"):
        expression_evaluate(source, {})


def test_doubling_a_string_in_nested_macros_stops_at_the_size_limit():
    # [s].map(a, [a + a].map(b, [b + b].map(c, …))): each level doubles the string.
    names = "abcdefghi"  # eight doublings: 100 characters become 25,600
    source = names[-1]
    for outer, inner in reversed(list(itertools.pairwise(names))):
        source = f"[{outer} + {outer}].map({inner}, {source})"
    source = f"[s].map(a, {source})"
    with pytest.raises(ExpressionError, match="grows longer"):
        expression_evaluate(source, {"s": "x" * 100})


def test_form_values_are_capped_in_size():
    with pytest.raises(ExpressionError, match=f"more than {MAX_VALUE_ITEMS} items"):
        expression_evaluate("size(rows)", {"rows": list(range(MAX_VALUE_ITEMS + 1))})
    with pytest.raises(ExpressionError, match="too long"):
        expression_evaluate("size(text)", {"text": "x" * 1_000_000})
    with pytest.raises(ExpressionError, match="too large"):
        expression_evaluate("n", {"n": 2**80})


def test_regular_expressions_cannot_backtrack_forever():
    # cel-python matches with RE2, which has no catastrophic backtracking.
    assert expression_evaluate("s.matches('^(a+)+$')", {"s": "a" * 5000 + "!"}) is False


# -- fees ----------------------------------------------------------------------------------------------


def test_a_fee_is_rounded_half_up_to_whole_rials():
    assert fee_amount("2.5", {}) == 3
    assert fee_amount("3.5", {}) == 4
    assert fee_amount("1.49", {}) == 1
    assert fee_amount("area * 1500.5", {"area": 3.0}) == 4502  # 4501.5 → 4502
    assert fee_amount(EXCAVATION_FEE, {"length_m": 2, "surface": "asphalt"}) == 9_000_000


def test_a_negative_fee_is_refused():
    with pytest.raises(ExpressionError, match="cannot be negative"):
        fee_amount("discount - 100", {"discount": 10})


def test_a_fee_must_be_a_finite_number():
    with pytest.raises(ExpressionError, match="must be a number"):
        fee_amount("true", {})
    with pytest.raises(ExpressionError, match="must be a number"):
        fee_amount("'1000'", {})
    with pytest.raises(ExpressionError, match="finite"):
        fee_amount("1.0 / 0.0", {})


def test_a_result_worked_out_before_is_given_again_only_for_values_of_the_same_type():
    # Results are remembered by the values the expression reads; 1, 1.0 and True are equal in
    # Python, but not to an expression.
    assert expression_evaluate("x * 2", {"x": 1, "unread": [1]}) == 2
    assert expression_evaluate("x * 2", {"x": 1, "unread": [2]}) == 2
    assert type(expression_evaluate("x * 2", {"x": 1.0})) is float
    assert expression_evaluate("x == 1", {"x": 1}) is True
    with pytest.raises(ExpressionError):
        expression_evaluate("x == 1", {"x": "1"})
    assert expression_evaluate("size(owners) > 1", {"owners": [{"share": 1}, {"share": 2}]}) is True
    assert expression_evaluate("size(owners) > 1", {"owners": [{"share": 1}]}) is False
    assert expression_evaluate("'a' in tags", {"tags": {"a": 1}}) is True
    assert expression_evaluate("'a' in tags", {"tags": {"b": 1}}) is False
