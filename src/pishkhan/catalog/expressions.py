"""Expressions in process definitions: fees, conditions (`when`) and `visible_if`.

They are CEL (Common Expression Language) evaluated by cel-python, never Python `eval`: an expression
sees the form values by field id and nothing else. On top of what CEL already forbids, this module:

- bounds the source (`MAX_EXPRESSION_LENGTH` characters, `MAX_SYNTAX_DEPTH` levels of nesting);
- allows only the functions in `ALLOWED_FUNCTIONS` and the list macros in `MACROS`, so timestamp,
  protobuf and non-standard cel-python extensions (`reduce`, `min`) stay out of process files;
- meters evaluation (`MAX_EVALUATION_STEPS` visited syntax nodes, macros included) and refuses to build
  strings or lists longer than `MAX_VALUE_LENGTH`, so no expression can loop or grow without end;
- caps the form values it is given (`MAX_VALUE_ITEMS` list and map entries, `MAX_VALUE_LENGTH` per
  string) and converts only the names the expression reads.

Names: a top-level identifier is a field id. A group field is a map of its sub-fields (`owners.share`
for a group that does not repeat) or, when it repeats, a list of such maps (`size(owners)`,
`owners.all(o, o.share > 0)`).
"""

from __future__ import annotations

import datetime
import decimal
import math
import operator
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import Activation, CELEvalError, Evaluator
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

MAX_EXPRESSION_LENGTH = 2000
# Levels of the parse tree, not of brackets: each bracket costs about ten levels. Ordinary fee
# expressions stay under 60; the cap keeps the recursive evaluator far from Python's recursion limit.
MAX_SYNTAX_DEPTH = 160
MAX_EVALUATION_STEPS = 20_000
MAX_VALUE_ITEMS = 1_000
MAX_VALUE_LENGTH = 10_000

# Macros take a variable and an expression; these are the standard CEL ones.
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# Functions callable as f(x) and methods callable as x.f(…).
ALLOWED_FUNCTIONS = frozenset({"size", "has", "int", "uint", "double", "string", "bool", "dyn", "matches"})
ALLOWED_METHODS = frozenset({"size", "contains", "startsWith", "endsWith", "matches"}) | MACROS
# Identifiers that are CEL's own and never name a form field.
BUILTIN_NAMES = frozenset(
    {"true", "false", "null", "size", "has", "dyn", "int", "uint", "double", "string", "bool", "bytes"}
    | {"list", "map", "type", "null_type", "matches", "duration", "timestamp"}
)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class ExpressionError(Exception):
    """An expression that cannot be compiled or evaluated; str(error) is a message for people."""


# -- compiling -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Compiled:
    tree: lark.Tree | None
    error: str | None


_ENVIRONMENT: celpy.Environment | None = None


def _environment() -> celpy.Environment:
    # Built on first use: celpy.Environment raises the interpreter's recursion limit as a side effect,
    # which importing this module should not do.
    global _ENVIRONMENT
    if _ENVIRONMENT is None:
        _ENVIRONMENT = celpy.Environment()
    return _ENVIRONMENT


def _children(tree: lark.Tree) -> Iterator[lark.Tree]:
    return (child for child in tree.children if isinstance(child, lark.Tree))


def _token(tree: lark.Tree, index: int = 0) -> str:
    tokens = [child for child in tree.children if isinstance(child, lark.Token)]
    return str(tokens[index]) if len(tokens) > index else ""


def _position(tree: lark.Tree) -> str:
    column = getattr(tree.meta, "column", None) if not tree.meta.empty else None
    return str(_(" (column %(column)s)") % {"column": column}) if column else ""


def _macro_variable(tree: lark.Tree) -> str | None:
    """The bound variable of `list.macro(var, expr)`, or None when the first argument is not a name."""
    args = [child for child in _children(tree) if child.data == "exprlist"]
    if not args or len(args[0].children) != 2 or not isinstance(args[0].children[0], lark.Tree):
        return None
    return _plain_name(args[0].children[0])


def _structure_problem(tree: lark.Tree) -> str | None:
    """Walk the parse tree once (iteratively: its depth is what we are checking) and return the first
    thing this module refuses, or None."""
    stack: list[tuple[lark.Tree, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_SYNTAX_DEPTH:
            return str(_("the expression is nested too deeply"))
        kind = node.data
        if kind == "member_object":
            return str(
                _("building messages with Name{…} is not supported%(where)s") % {"where": _position(node)}
            )
        if kind in ("ident_arg", "dot_ident_arg"):
            name = _token(node)
            if name not in ALLOWED_FUNCTIONS:
                return str(
                    _("unknown function `%(name)s`%(where)s; allowed: %(allowed)s")
                    % {
                        "name": name,
                        "where": _position(node),
                        "allowed": ", ".join(sorted(ALLOWED_FUNCTIONS)),
                    }
                )
        elif kind == "member_dot_arg":
            name = _token(node)
            if name not in ALLOWED_METHODS:
                return str(
                    _("unknown method `.%(name)s()`%(where)s; allowed: %(allowed)s")
                    % {"name": name, "where": _position(node), "allowed": ", ".join(sorted(ALLOWED_METHODS))}
                )
            if name in MACROS and _macro_variable(node) is None:
                return str(
                    _(
                        "`.%(name)s()` takes a variable name and an expression, "
                        "e.g. .%(name)s(x, x > 0)%(where)s"
                    )
                    % {"name": name, "where": _position(node)}
                )
        elif kind in ("ident", "dot_ident") and _token(node) in BUILTIN_NAMES - {"true", "false", "null"}:
            return str(
                _("`%(name)s` is a CEL function, not a value%(where)s; call it with brackets")
                % {"name": _token(node), "where": _position(node)}
            )
        # Reversed, so the walk goes left to right and the first problem in the text is reported.
        stack.extend((child, depth + 1) for child in reversed(list(_children(node))))
    return None


def _compile(source: str) -> _Compiled:
    # The error text is translated when it is made, so the cache is kept per language: a Persian
    # page must not get the English message of whoever compiled the expression first.
    return _compile_in(source, get_language() or "")


@lru_cache(maxsize=1024)
def _compile_in(source: str, language: str) -> _Compiled:
    if len(source) > MAX_EXPRESSION_LENGTH:
        return _Compiled(
            None,
            str(_("the expression is longer than %(limit)s characters") % {"limit": MAX_EXPRESSION_LENGTH}),
        )
    if not source.strip():
        return _Compiled(None, str(_("the expression is empty")))
    try:
        tree = _environment().compile(source)
    except celpy.CELParseError as error:
        column = getattr(error, "column", None)
        where = str(_(" at column %(column)s") % {"column": column}) if column else ""
        token = _unexpected_token(error)
        return _Compiled(None, str(_("syntax error%(where)s%(token)s") % {"where": where, "token": token}))
    except RecursionError:
        return _Compiled(None, str(_("the expression is nested too deeply")))
    except Exception as error:  # the lark parser on hostile text: report, never crash the caller
        return _Compiled(None, str(_("syntax error: %(error)s") % {"error": type(error).__name__}))
    problem = _structure_problem(tree)
    return _Compiled(None, problem) if problem else _Compiled(tree, None)


def _unexpected_token(error: celpy.CELParseError) -> str:
    for arg in error.args[1:]:
        token = getattr(arg, "token", None)
        if token is not None and str(token):
            return str(_(": unexpected `%(token)s`") % {"token": str(token)[:20]})
        char = getattr(arg, "char", None)
        if char:
            return str(_(": unexpected `%(token)s`") % {"token": char})
    return str(_(": the expression ends too early")) if "$END" in str(error.args[1:]) else ""


def expression_check(source: str) -> str | None:
    """None if `source` is an expression this module will evaluate; otherwise a short message for
    people, with the column of the problem when there is one (syntax error, unknown function, too
    long, nested too deeply)."""
    if not isinstance(source, str):
        return str(_("an expression must be text"))
    return _compile(source).error


def _plain_name(tree: lark.Tree) -> str | None:
    """The identifier a subtree is made of, when it is nothing but one (`o` in `.all(o, …)`)."""
    node = tree
    while node.data not in ("ident", "dot_ident"):
        if len(node.children) != 1 or not isinstance(node.children[0], lark.Tree):
            return None
        node = node.children[0]
    return _token(node)


def _dotted_chain(tree: lark.Tree) -> tuple[str, ...] | None:
    """For `a.b.c` (member_dot nodes down to a plain identifier): ("a", "b", "c"); else None."""
    attributes: list[str] = []
    node = tree
    while True:
        if node.data == "member_dot":
            attributes.append(_token(node))
            node = node.children[0]
        elif node.data in ("ident", "dot_ident"):
            return (_token(node), *reversed(attributes))
        elif (
            node.data in ("member", "primary")
            and len(node.children) == 1
            and isinstance(node.children[0], lark.Tree)
        ):
            node = node.children[0]
        else:
            return None


def _walk_names(tree: lark.Tree) -> Iterator[tuple[str, ...]]:
    """Yield the dotted name chains the expression reads (`a.b.c` → ("a", "b", "c")), leaving out
    CEL's own names and the variables macros bind inside their own bodies."""
    stack: list[tuple[lark.Tree, frozenset[str]]] = [(tree, frozenset())]
    while stack:
        node, bound = stack.pop()
        chain = _dotted_chain(node) if node.data in ("member_dot", "ident", "dot_ident") else None
        if chain is not None:
            if chain[0] not in bound and chain[0] not in BUILTIN_NAMES:
                yield chain
            continue
        if node.data == "member_dot_arg" and _token(node) in MACROS:
            target, *rest = list(_children(node))
            stack.append((target, bound))
            variable = _macro_variable(node)
            for args in rest:
                body = args.children[-1] if args.children else None
                if isinstance(body, lark.Tree):
                    stack.append((body, bound | {variable} if variable else bound))
            continue
        stack.extend((child, bound) for child in _children(node))


def expression_references(source: str) -> set[tuple[str, ...]]:
    """The dotted name chains an expression reads: `owners.share > 0` reads ("owners", "share").
    Empty for an expression that does not compile."""
    compiled = _compile(source) if isinstance(source, str) else _Compiled(None, "")
    if compiled.tree is None:
        return set()
    return set(_walk_names(compiled.tree))


def expression_names(source: str) -> set[str]:
    """The top-level identifiers an expression reads (`a.b` reads `a`), without CEL's own names
    (size, has, true, …) and without variables bound by macros. Empty for an expression that does
    not compile."""
    return {chain[0] for chain in expression_references(source)}


@lru_cache(maxsize=1024)
def _names_read(source: str) -> tuple[str, ...]:
    # expression_names walks the syntax tree; an engine routing on a condition asks on every act.
    return tuple(sorted(expression_names(source)))


# -- evaluating ------------------------------------------------------------------------------------


class _OutOfSteps(Exception):
    pass


class _Meter:
    """Counts visited syntax nodes for one evaluation, macro bodies included."""

    def __init__(self, budget: int):
        self.left = budget
        self.exhausted = False

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            self.exhausted = True
            raise _OutOfSteps


class _MeteredEvaluator(Evaluator):
    # lark's Interpreter goes through _visit_tree() for every node (visit() and visit_children() both
    # call it); macros evaluate their bodies in sub-evaluators, which share the meter so nested
    # macros spend the same budget. Pinned to cel-python 0.5 / lark 1.x; tests cover the budget.
    def __init__(self, ast: lark.Tree, activation: Activation, meter: _Meter):
        super().__init__(ast, activation=activation)
        self.meter = meter

    def sub_evaluator(self, ast: lark.Tree) -> Evaluator:
        return _MeteredEvaluator(ast, activation=self.activation, meter=self.meter)

    def _visit_tree(self, tree: lark.Tree):
        self.meter.spend()
        return super()._visit_tree(tree)


def _bounded_add(left, right):
    # Without this, macros can double a string at each level and fill the memory in a few steps.
    growing = isinstance(left, str | bytes | list) and isinstance(right, str | bytes | list)
    if growing and len(left) + len(right) > MAX_VALUE_LENGTH:
        raise ExpressionError(
            str(_("a value grows longer than %(limit)s items") % {"limit": MAX_VALUE_LENGTH})
        )
    return operator.add(left, right)


_FUNCTIONS = {"_+_": _bounded_add}


class _Budget:
    def __init__(self):
        self.items = MAX_VALUE_ITEMS


def _to_cel(value: Any, *, name: str, budget: _Budget, depth: int = 0):
    if depth > 20:
        raise ExpressionError(str(_("the value of `%(name)s` is nested too deeply") % {"name": name}))
    if value is None:
        return None
    if isinstance(value, bool):
        return celtypes.BoolType(value)
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise ExpressionError(str(_("the value of `%(name)s` is too large") % {"name": name}))
        return celtypes.IntType(value)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ExpressionError(str(_("the value of `%(name)s` is not a number") % {"name": name}))
        integral = value == value.to_integral_value()
        return _to_cel(int(value) if integral else float(value), name=name, budget=budget, depth=depth)
    if isinstance(value, float):
        return celtypes.DoubleType(value)
    if isinstance(value, str):
        if len(value) > MAX_VALUE_LENGTH:
            raise ExpressionError(str(_("the value of `%(name)s` is too long") % {"name": name}))
        return celtypes.StringType(value)
    if isinstance(value, datetime.date):
        # Dates reach expressions as ISO text, which compares in date order.
        return celtypes.StringType(value.isoformat())
    if isinstance(value, list | tuple | dict):
        budget.items -= len(value)
        if budget.items < 0:
            raise ExpressionError(
                str(_("the form values hold more than %(limit)s items") % {"limit": MAX_VALUE_ITEMS})
            )
        if isinstance(value, dict):
            converted = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ExpressionError(
                        str(_("the value of `%(name)s` has a key that is not text") % {"name": name})
                    )
                converted[celtypes.StringType(key)] = _to_cel(item, name=name, budget=budget, depth=depth + 1)
            return celtypes.MapType(converted)
        return celtypes.ListType([_to_cel(item, name=name, budget=budget, depth=depth + 1) for item in value])
    raise ExpressionError(
        str(
            _("the value of `%(name)s` has a type expressions cannot read (%(type)s)")
            % {"name": name, "type": type(value).__name__}
        )
    )


def _from_cel(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool | celtypes.BoolType):
        return bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType) or type(value) is int:
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, list):
        return [_from_cel(item) for item in value]
    if isinstance(value, dict):
        return {_from_cel(key): _from_cel(item) for key, item in value.items()}
    raise ExpressionError(
        str(
            _("the expression gives a value of a type process files cannot use (%(type)s)")
            % {"type": type(value).__name__}
        )
    )


_OPERATORS = {
    "multiplication_mul": "*",
    "multiplication_div": "/",
    "multiplication_mod": "%",
    "addition_add": "+",
    "addition_sub": "-",
    "relation_lt": "<",
    "relation_le": "<=",
    "relation_gt": ">",
    "relation_ge": ">=",
    "relation_eq": "==",
    "relation_ne": "!=",
    "relation_in": "in",
}
_CEL_TYPE_NAMES = {
    "IntType": "int",
    "UintType": "uint",
    "DoubleType": "double",
    "StringType": "string",
    "BoolType": "bool",
    "ListType": "list",
    "MapType": "map",
    "NoneType": "null",
    "BytesType": "bytes",
}


def _evaluation_message(error: CELEvalError) -> str:
    """cel-python's messages carry Python class names and the whole activation (form values
    included); keep what a process owner can act on."""
    text = str(error.args[0]) if error.args else str(error)
    if match := re.match(r"undeclared reference to '([^']*)'", text):
        return str(_("unknown name `%(name)s`") % {"name": match[1]})
    if match := re.search(
        r"no matching overload for (?:Token\('RULE', '(\w+)'\)|(\S+)) applied to '\((.*)\)'", text
    ):
        operation = _OPERATORS.get(match[1], match[1]) if match[1] else match[2]
        found = re.findall(r"<class '(?:celpy\.celtypes\.)?(\w+)'>", match[3])
        types = [_CEL_TYPE_NAMES.get(name, name) for name in found]
        return str(
            _("`%(operation)s` does not apply to %(types)s; convert with int() or double()")
            % {"operation": operation, "types": " and ".join(types) or "these values"}
        )
    if "divide by zero" in text or "division by zero" in text:
        return str(_("division by zero"))
    if "overflow" in text:
        return str(_("the number is too large"))
    if "does not support field selection" in text:
        return str(_("only maps (group fields) have fields to select"))
    return text.split(" (in activation")[0][:200]


# Results already worked out, by (source, the values of the names it reads): an expression is a
# pure function of those, and the engine asks the same fee and condition again on every act of a
# case. Only results that cannot be changed by whoever receives them are kept; never errors.
_RESULTS: dict[tuple, Any] = {}
_RESULTS_MAX = 4096
_IMMUTABLE = (type(None), bool, int, float, str)


def _evaluate(source: str, values: dict) -> Any:
    key = _result_key(source, values)
    if key is not None:
        found = _RESULTS.get(key, _RESULTS)
        if found is not _RESULTS:
            return found
    result = _evaluate_now(source, values)
    if key is not None and type(result) in _IMMUTABLE:
        if len(_RESULTS) >= _RESULTS_MAX:
            _RESULTS.clear()
        _RESULTS[key] = result
    return result


def _result_key(source, values) -> tuple | None:
    """A key for _RESULTS, or None when these values cannot make one (then nothing is kept)."""
    if not isinstance(source, str) or not isinstance(values, dict):
        return None
    try:
        key = (source, tuple((name, _frozen(values[name])) for name in _names_read(source) if name in values))
        hash(key)
    except (TypeError, RecursionError):  # a value no key can hold (a set, keys of mixed types)
        return None
    return key


def _frozen(value):
    # Hashable and typed: 1, 1.0 and True are equal in Python but not in an expression.
    kind = type(value)
    if kind is list or kind is tuple:
        return (list, tuple(_frozen(item) for item in value))
    if kind is dict:
        return (dict, tuple(sorted((key, _frozen(item)) for key, item in value.items())))
    return (kind, value)


def _evaluate_now(source: str, values: dict) -> Any:
    compiled = (
        _compile(source) if isinstance(source, str) else _Compiled(None, str(_("an expression must be text")))
    )
    if compiled.tree is None:
        raise ExpressionError(compiled.error)
    if not isinstance(values, dict):
        raise ExpressionError(str(_("form values must be a mapping")))
    budget = _Budget()
    context = {
        name: _to_cel(values[name], name=name, budget=budget)
        for name in _names_read(source)
        if name in values
    }
    meter = _Meter(MAX_EVALUATION_STEPS)
    activation = Activation(annotations=None, package=None, functions=_FUNCTIONS)
    evaluator = _MeteredEvaluator(compiled.tree, activation=activation, meter=meter)
    try:
        result = evaluator.evaluate(context)
    except ExpressionError:
        raise
    except _OutOfSteps:
        result = None
    except CELEvalError as error:
        if not meter.exhausted:
            raise ExpressionError(_evaluation_message(error)) from None
    except RecursionError:
        raise ExpressionError(str(_("the expression is nested too deeply"))) from None
    except Exception as error:  # cel-python internals on odd input: a clean error, never a traceback
        cause = error.args[0] if error.args and isinstance(error.args[0], ExpressionError) else None
        raise ExpressionError(
            str(cause) if cause else str(_("the expression could not be evaluated"))
        ) from None
    if meter.exhausted:
        raise ExpressionError(
            str(
                _("the expression takes more than %(limit)s steps to evaluate")
                % {"limit": MAX_EVALUATION_STEPS}
            )
        )
    return _from_cel(result)


def expression_evaluate(source: str, values: dict) -> Any:
    """Evaluate a CEL expression over form values (field id → value) and return a plain Python value
    (int, float, bool, str, None, or lists and dicts of them).

    Values may be None, bool, int, float, Decimal, str, date (read as ISO text), and lists or dicts of
    these; only the names the expression reads are converted. Raises ExpressionError, with a message
    for people, when the expression does not compile, reads a missing name, mixes types CEL will not
    mix (int * double), divides by zero, overflows, or goes over the step or size limits."""
    return _evaluate(source, values)


def fee_amount(fee_expression: str, values: dict) -> int:
    """The amount of a fee in integer Rials: the expression's number, rounded half up.

    Raises ExpressionError when the expression fails, gives something other than a number, or gives a
    negative or non-finite amount."""
    amount = _evaluate(fee_expression, values)
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise ExpressionError(str(_("a fee must be a number of Rials, not %(value)r") % {"value": amount}))
    if isinstance(amount, float):
        if not math.isfinite(amount):
            raise ExpressionError(str(_("a fee must be a finite number")))
        # repr() keeps the float's shortest decimal form, so 2.5 rounds to 3 and not to 2.
        amount = int(
            decimal.Decimal(repr(amount)).quantize(decimal.Decimal(1), rounding=decimal.ROUND_HALF_UP)
        )
    if amount < 0:
        raise ExpressionError(str(_("a fee cannot be negative (%(amount)s Rials)") % {"amount": amount}))
    return amount
