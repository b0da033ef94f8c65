"""Reading process definition files without ever trusting them.

A definition file is hostile input until proven otherwise: it may come from an upload in the staff
desk. `load_yaml_text` turns YAML text into plain JSON-like data (dict, list, str, int, float, bool,
None) and a LineMap, and never raises: every way the text can be wrong becomes a Problem.

How: ruamel.yaml only *parses* (its parser is a state machine, so nesting cannot exhaust the stack);
this module builds the data from the parser's events itself. Nothing is ever constructed from a tag
(`!!python/object` is refused, not instantiated), duplicate keys are reported, and aliases are
expanded against a budget of nodes, so a "billion laughs" file stops after MAX_NODES values instead
of filling the memory. Scalars follow the YAML 1.2 core schema; dates stay text.

`load_definition_text` then checks the data against the JSON Schema named by its `schema:` key
(src/pishkhan/catalog/schema/) and, for a process, runs the semantic checks of catalog.validation.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext_lazy as _

from .definition import Definition

MAX_FILE_BYTES = 2 * 1024 * 1024
# A definition is at most about nine levels deep (fields of a group of a group, with labels).
MAX_DEPTH = 40
# Values after aliases are expanded; a large real process has a few thousand.
MAX_NODES = 100_000

PROCESS_SCHEMA = "pishkhan/process/1"
VARIANT_SCHEMA = "pishkhan/variant/1"
SCHEMA_FILES = {PROCESS_SCHEMA: "process-1", VARIANT_SCHEMA: "variant-1"}
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"

ERROR = "error"
WARNING = "warning"


@dataclass
class Problem:
    """One thing wrong with a definition, located for the person who fixes it.

    `path` is a field path such as `steps[3].outcomes[0].to` ("" for the whole file); `line` is
    1-based, None when the problem has no place in a text file. `message` says what is wrong and
    `hint` what to do; both may be lazy translations. `severity` is "error" (the definition cannot
    be used) or "warning" (it can, but someone should look)."""

    file: str
    line: int | None
    path: str
    message: str
    hint: str = ""
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: " if where else ""
        if self.path:
            text += f"{self.path}: "
        text += str(self.message)
        return f"{text} ({self.hint})" if self.hint else text

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


_LAST_PART = re.compile(r"(?:\.[^.\[\]]+|\[\d+\])$")


def join_path(parent: str, key: str | int) -> str:
    """`steps` + 3 → `steps[3]`; `steps[3]` + `to` → `steps[3].to`; "" + `code` → `code`."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else str(key)


def path_from_parts(parts: Iterable[str | int]) -> str:
    """A field path from its parts, e.g. ["steps", 3, "to"] → `steps[3].to`."""
    path = ""
    for part in parts:
        path = join_path(path, part)
    return path


@dataclass
class LineMap:
    """Field path → 1-based line of the key (in a mapping) or of the item (in a list)."""

    lines: dict[str, int] = field(default_factory=dict)

    def line(self, path: str) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one (a missing key is reported
        on the line of the mapping that should hold it); None when nothing has a line."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            shorter = _LAST_PART.sub("", path)
            path = shorter if shorter != path else ""

    def __contains__(self, path: str) -> bool:
        return path in self.lines


def _problem(filename: str, line: int | None, path: str, message, hint="", severity=ERROR) -> Problem:
    return Problem(
        file=filename, line=line, path=path, message=str(message), hint=str(hint), severity=severity
    )


# -- YAML ------------------------------------------------------------------------------------------

_CORE_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_CORE_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
# Infinity and NaN are left as text on purpose: no field of the format can hold them.
_CORE_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_YAML_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {f"{_YAML_TAG}{name}" for name in ("str", "int", "float", "bool", "null")} | {"!"}
_COLLECTION_TAGS = {f"{_YAML_TAG}map", f"{_YAML_TAG}seq"}


class _Stop(Exception):
    """The text cannot be turned into data; carries the one Problem that says why."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


def _number(text: str) -> int | float | str:
    try:
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)
    except ValueError:  # more digits than Python converts: leave it text, the schema will say so
        return text


def _scalar(event, *, filename: str, path: str) -> Any:
    tag = str(event.tag) if event.tag is not None else None
    value = event.value
    if tag is None and event.style is None:
        if _CORE_NULL.match(value):
            return None
        if _CORE_BOOL.match(value):
            return value.lower() == "true"
        if _CORE_INT.match(value):
            return _number(value)
        if _CORE_FLOAT.match(value):
            number = float(value)
            return number if number not in (float("inf"), float("-inf")) else value
        return value
    if tag is None or tag in (f"{_YAML_TAG}str", "!"):
        return value
    line = event.start_mark.line + 1
    if tag == f"{_YAML_TAG}null" and _CORE_NULL.match(value):
        return None
    if tag == f"{_YAML_TAG}bool" and _CORE_BOOL.match(value):
        return value.lower() == "true"
    if tag == f"{_YAML_TAG}int" and _CORE_INT.match(value):
        return _number(value)
    if tag == f"{_YAML_TAG}float" and _CORE_FLOAT.match(value):
        return float(value)
    if tag in _PLAIN_TAGS:
        raise _Stop(
            _problem(
                filename,
                line,
                path,
                _("`%(value)s` is not a valid %(tag)s")
                % {"value": value[:40], "tag": tag.rsplit(":", 1)[-1]},
                _("remove the tag or fix the value"),
            )
        )
    raise _Stop(_refused_tag(tag, filename=filename, line=line, path=path))


def _refused_tag(tag: str, *, filename: str, line: int, path: str) -> Problem:
    return _problem(
        filename,
        line,
        path,
        _("the tag `%(tag)s` is not allowed") % {"tag": tag.replace(_YAML_TAG, "!!")[:80]},
        _("process files hold plain data: remove the tag"),
    )


@dataclass
class _Frame:
    value: dict | list
    path: str
    depth: int
    key: str | None = None  # a mapping waiting for the value of this key
    key_line: int = 0
    first_lines: dict[str, int] = field(default_factory=dict)  # key → line, for duplicate keys


@dataclass
class _Anchored:
    value: Any
    nodes: int
    depth: int


def _count(value: Any) -> tuple[int, int]:
    """(nodes, depth) of a built value, iteratively."""
    nodes, depth, stack = 0, 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        nodes += 1
        depth = max(depth, level)
        if isinstance(item, dict):
            stack.extend((child, level + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
    return nodes, depth


class _Builder:
    """Builds plain data and the line map from ruamel.yaml parser events."""

    def __init__(self, filename: str):
        self.filename = filename
        self.lines = LineMap()
        self.problems: list[Problem] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, _Anchored] = {}
        self.open_anchors: dict[int, tuple[str, int]] = {}  # stack depth → (anchor, nodes at start)
        self.nodes = 0
        self.root: Any = None
        self.documents = 0

    def _stop(self, line: int | None, path: str, message, hint="") -> _Stop:
        return _Stop(_problem(self.filename, line, path, message, hint))

    def _spend(self, nodes: int, line: int, path: str) -> None:
        self.nodes += nodes
        if self.nodes > MAX_NODES:
            raise self._stop(
                line,
                path,
                _("the file expands to more than %(limit)s values") % {"limit": MAX_NODES},
                _("aliases (*name) that repeat other aliases multiply; write the values out instead"),
            )

    def _place(self, event) -> tuple[str, int]:
        """The path and line of the node an event starts, in its parent."""
        line = event.start_mark.line + 1
        if not self.stack:
            self.lines.lines.setdefault("", line)  # problems of the whole mapping (a missing key)
            return "", line
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            path = join_path(frame.path, len(frame.value))
            self.lines.lines.setdefault(path, line)
            return path, line
        if frame.key is None:  # this node is a key
            return frame.path, line
        return join_path(frame.path, frame.key), frame.key_line

    def _depth(self) -> int:
        return self.stack[-1].depth + 1 if self.stack else 1

    def _add(self, value: Any, *, line: int, path: str) -> None:
        if not self.stack:
            self.root = value
            return
        frame = self.stack[-1]
        if isinstance(frame.value, list):
            frame.value.append(value)
        elif frame.key is None:
            raise self._stop(line, path, _("a key must be plain text, not a list or a mapping"))
        else:
            frame.value[frame.key] = value
            frame.key = None

    def _key(self, event) -> None:
        frame = self.stack[-1]
        line = event.start_mark.line + 1
        key = event.value
        tag = str(event.tag) if event.tag is not None else None
        if tag is not None and tag not in _PLAIN_TAGS:
            raise _Stop(_refused_tag(tag, filename=self.filename, line=line, path=frame.path))
        if tag == f"{_YAML_TAG}merge" or (event.style is None and key == "<<" and tag is None):
            raise self._stop(
                line,
                frame.path,
                _("merge keys (<<) are not supported"),
                _("write the keys out; process files do not use YAML 1.1 merges"),
            )
        path = join_path(frame.path, key)
        if key in frame.first_lines:
            self.problems.append(
                _problem(
                    self.filename,
                    line,
                    path,
                    _("the key `%(key)s` appears twice in this mapping (first on line %(first)s)")
                    % {"key": key, "first": frame.first_lines[key]},
                    _("keep one of them; YAML does not allow duplicate keys"),
                )
            )
        else:
            frame.first_lines[key] = line
            self.lines.lines.setdefault(path, line)
        # A duplicate's value replaces nothing: it goes to a throwaway key so the first one stays.
        frame.key = key if key not in frame.value else f"\0duplicate:{line}"
        frame.key_line = line

    def event(self, event) -> None:
        kind = type(event).__name__
        if kind in ("StreamStartEvent", "StreamEndEvent", "DocumentEndEvent"):
            return
        if kind == "DocumentStartEvent":
            self.documents += 1
            if self.documents > 1:
                raise self._stop(
                    event.start_mark.line + 1,
                    "",
                    _("the file holds more than one YAML document"),
                    _("one definition per file: remove the `---` separator and what follows"),
                )
            return
        if kind in ("MappingEndEvent", "SequenceEndEvent"):
            frame = self.stack.pop()
            value = frame.value
            if isinstance(value, dict):
                for key in [k for k in value if k.startswith("\0duplicate:")]:
                    del value[key]
            anchor = self.open_anchors.pop(len(self.stack), None)
            if anchor:
                name, start_nodes = anchor
                self.anchors[name] = _Anchored(value, self.nodes - start_nodes + 1, _count(value)[1])
            return
        frame = self.stack[-1] if self.stack else None
        if (
            kind == "ScalarEvent"
            and frame is not None
            and isinstance(frame.value, dict)
            and frame.key is None
        ):
            self._key(event)
            return
        if kind == "AliasEvent" and frame is not None and isinstance(frame.value, dict) and frame.key is None:
            raise self._stop(
                event.start_mark.line + 1,
                frame.path,
                _("an alias (*%(name)s) cannot be a key") % {"name": event.anchor},
            )
        path, line = self._place(event)
        if kind == "AliasEvent":
            anchored = self.anchors.get(event.anchor)
            if anchored is None:
                raise self._stop(
                    line,
                    path,
                    _("the alias *%(name)s names no finished anchor &%(name)s") % {"name": event.anchor},
                    _("define the anchor before using it; an anchor cannot contain its own alias"),
                )
            if self._depth() + anchored.depth - 1 > MAX_DEPTH:
                raise self._too_deep(line, path)
            self._spend(anchored.nodes, line, path)
            self._add(anchored.value, line=line, path=path)
            return
        if self._depth() > MAX_DEPTH:
            raise self._too_deep(line, path)
        self._spend(1, line, path)
        if kind == "ScalarEvent":
            value = _scalar(event, filename=self.filename, path=path)
            self._add(value, line=line, path=path)
            if event.anchor:
                self.anchors[event.anchor] = _Anchored(value, 1, 1)
            return
        if kind in ("MappingStartEvent", "SequenceStartEvent"):
            tag = str(event.tag) if event.tag is not None else None
            if tag is not None and tag not in _COLLECTION_TAGS and tag != "!":
                raise _Stop(_refused_tag(tag, filename=self.filename, line=line, path=path))
            container: dict | list = {} if kind == "MappingStartEvent" else []
            depth = self._depth()
            self._add(container, line=line, path=path)
            if event.anchor:
                self.open_anchors[len(self.stack)] = (event.anchor, self.nodes)
            self.stack.append(_Frame(value=container, path=path, depth=depth))
            return
        raise self._stop(line, path, _("unexpected YAML construct (%(kind)s)") % {"kind": kind})

    def _too_deep(self, line: int, path: str) -> _Stop:
        return self._stop(
            line,
            path,
            _("the file is nested more than %(limit)s levels deep") % {"limit": MAX_DEPTH},
            _("a definition needs far fewer levels; look for runaway brackets or indentation"),
        )


def _yaml_error_problem(error: Exception, *, text: str, filename: str) -> Problem:
    character = getattr(error, "character", None)
    if isinstance(getattr(error, "position", None), int) and character is not None:
        # ruamel's ReaderError: a character YAML refuses (NUL, other C0 controls, lone surrogates).
        code = ord(character) if isinstance(character, str) and len(character) == 1 else character
        code = code if isinstance(code, int) else 0
        return _problem(
            filename,
            text.count("\n", 0, error.position) + 1,
            "",
            _("the text holds a character YAML does not allow (#x%(code)04x)") % {"code": code},
            _("remove the control character; the file must be plain UTF-8 text"),
        )
    problem = str(getattr(error, "problem", None) or "").strip()
    mark = getattr(error, "problem_mark", None)
    if "end of stream" in problem or mark is None:
        # An unclosed quote or bracket is found at the end of the file; where it opened is more use.
        mark = getattr(error, "context_mark", None) or mark
    line = mark.line + 1 if mark is not None and isinstance(getattr(mark, "line", None), int) else None
    if "\t" in problem or "\\t" in problem:
        hint = _("YAML is indented with spaces, not tabs")
    else:
        hint = _("check the indentation and the quotes around this line")
    message = _("YAML syntax error: %(problem)s") % {"problem": problem or type(error).__name__}
    return _problem(filename, line, "", message, hint)


def load_yaml_text(text: str, *, filename: str) -> tuple[dict | None, LineMap, list[Problem]]:
    """Parse YAML text into (data, line map, problems); never raises.

    `data` is a dict of plain JSON-like values, or None when the text cannot be read as one mapping
    (syntax error, empty file, a list at the top, refused tag, alias bomb, too deep, too large). Line
    numbers in the map and the problems are 1-based. Duplicate keys are problems; the first value is
    kept."""
    from ruamel.yaml import YAML  # the parser only; no constructor ever runs

    lines = LineMap()
    if not isinstance(text, str):
        return None, lines, [_problem(filename, None, "", _("the definition must be text"))]
    if len(text) > MAX_FILE_BYTES:
        return None, lines, [_too_large(filename)]
    if text.startswith("\ufeff"):
        text = text[1:]
    builder = _Builder(filename)
    try:
        for event in YAML(typ="rt", pure=True).parse(text):
            builder.event(event)
    except _Stop as stop:
        return None, builder.lines, [*builder.problems, stop.problem]
    except RecursionError:
        return None, builder.lines, [*builder.problems, builder._too_deep(None, "").problem]
    except Exception as error:  # the YAML library on hostile text: every failure is a problem, not a crash
        return (
            None,
            builder.lines,
            [*builder.problems, _yaml_error_problem(error, text=text, filename=filename)],
        )
    data = builder.root
    if builder.documents == 0 or data is None:
        return (
            None,
            builder.lines,
            [
                *builder.problems,
                _problem(
                    filename, None, "", _("the file is empty"), _("start from a definition in processes/")
                ),
            ],
        )
    if not isinstance(data, dict):
        found = _("a list") if isinstance(data, list) else _("a single value")
        return (
            None,
            builder.lines,
            [
                *builder.problems,
                _problem(
                    filename,
                    1,
                    "",
                    _("the file must be a mapping of keys (schema:, code:, …), not %(found)s")
                    % {"found": found},
                    _("see docs/process-format.md for the layout"),
                ),
            ],
        )
    return data, builder.lines, builder.problems


def _too_large(filename: str) -> Problem:
    return _problem(
        filename,
        None,
        "",
        _("the file is larger than %(limit)s MB") % {"limit": MAX_FILE_BYTES // (1024 * 1024)},
        _("a definition is a few hundred lines; is this the right file?"),
    )


# -- JSON Schema -----------------------------------------------------------------------------------


def schema_path(name: str) -> Path:
    """The JSON Schema file for `name`: "process-1" or "variant-1" (".json" optional), or a format
    name such as "pishkhan/process/1". Raises KeyError for any other name."""
    stem = SCHEMA_FILES.get(name, name).removesuffix(".json")
    if stem not in SCHEMA_FILES.values():
        raise KeyError(name)
    return SCHEMA_DIR / f"{stem}.json"


@cache
def schema_load(name: str) -> dict:
    """The parsed JSON Schema for `name` (see schema_path); cached, do not modify."""
    return json.loads(schema_path(name).read_text(encoding="utf-8"))


@cache
def _validator(format_name: str):
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema))
        for schema in (schema_load(stem) for stem in SCHEMA_FILES.values())
    )
    return Draft202012Validator(schema_load(format_name), registry=registry)


_TYPE_NAMES = {
    "string": _("text"),
    "integer": _("a whole number"),
    "number": _("a number"),
    "boolean": _("true or false"),
    "object": _("a mapping (key: value)"),
    "array": _("a list"),
    "null": _("nothing"),
}
_PATTERN_HINTS = {
    "^[a-z][a-z0-9_]*$": _("ids are lowercase ASCII: a letter, then letters, digits or _"),
    "^[a-z][a-z0-9-]*$": _("codes are lowercase ASCII: a letter, then letters, digits or -"),
    "^[a-z0-9][a-z0-9_-]*$": _("use lowercase ASCII letters, digits, - or _"),
    "^[a-z][a-z0-9_-]*$": _("use lowercase ASCII letters, digits, - or _, starting with a letter"),
}


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return str(_TYPE_NAMES["boolean"])
    if isinstance(value, int):
        return str(_TYPE_NAMES["integer"])
    for json_type, python_type in (("number", float), ("string", str), ("object", dict), ("array", list)):
        if isinstance(value, python_type):
            return str(_TYPE_NAMES[json_type])
    return str(_TYPE_NAMES["null"])


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "…"


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """A hint naming the closest choice ("did you mean `role`?"), or "" when none is close."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, sorted(set(choices)), n=1, cutoff=0.6)
    return str(_("did you mean `%(choice)s`?") % {"choice": close[0]}) if close else ""


def _value_at(data: Any, parts: Iterable[str | int]) -> Any:
    for part in parts:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _schema_error_problems(error, *, data: dict, filename: str, lines: LineMap) -> list[Problem]:
    parts = list(error.absolute_path)
    path = path_from_parts(parts)
    line = lines.line(path)
    instance = error.instance
    validator = error.validator
    value = error.validator_value

    def problem(message, hint="", at: str = path) -> Problem:
        return _problem(filename, lines.line(at), at, message, hint)

    if validator == "additionalProperties" and isinstance(instance, dict):
        allowed = set(error.schema.get("properties", {}))
        return [
            problem(
                _("unknown key `%(key)s`") % {"key": key},
                did_you_mean(key, allowed)
                or _("allowed here: %(keys)s") % {"keys": ", ".join(sorted(allowed))},
                at=join_path(path, key),
            )
            for key in instance
            if key not in allowed
        ]
    if validator == "required" and isinstance(instance, dict):
        kind = instance.get("kind") if isinstance(instance.get("kind"), str) else None
        missing = [key for key in value if key not in instance]
        if kind and "then" in error.schema_path:
            template = _("a step of kind `%(kind)s` needs `%(key)s`")
        else:
            template = _("`%(key)s` is required here")
        return [
            _problem(
                filename,
                line,
                join_path(path, key),
                template % {"kind": kind, "key": key},
                _("add `%(key)s:`") % {"key": key},
            )
            for key in missing
        ]
    if validator is None or error.schema is False:
        # A `false` subschema (a key that does not belong to this kind of step). jsonschema reports
        # it on the mapping that holds the key, so find the key by the value it holds.
        container = _value_at(data, parts)
        key = (
            next((k for k, v in container.items() if v is instance), None)
            if isinstance(container, dict)
            else None
        )
        if key is None:
            container, key = _value_at(data, parts[:-1]), (parts[-1] if parts else "")
        at = join_path(path_from_parts(parts if container is _value_at(data, parts) else parts[:-1]), key)
        kind = container.get("kind") if isinstance(container, dict) else None
        if isinstance(kind, str):
            return [
                problem(
                    _("`%(key)s` does not belong on a step of kind `%(kind)s`") % {"key": key, "kind": kind},
                    _("remove it, or change the kind"),
                    at=at,
                )
            ]
        return [problem(_("`%(key)s` is not allowed here") % {"key": key}, _("remove it"), at=at)]
    if validator == "type":
        expected = [value] if isinstance(value, str) else list(value)
        names = " / ".join(str(_TYPE_NAMES.get(t, t)) for t in expected)
        return [
            problem(
                _("expected %(expected)s, found %(found)s `%(value)s`")
                % {"expected": names, "found": _type_of(instance), "value": _shown(instance)},
                _("texts shown to people are {fa: …, en: …}")
                if "object" in expected
                and parts
                and parts[-1] in ("title", "label", "description", "help", "eligibility", "note")
                else "",
            )
        ]
    if validator == "enum":
        return [
            problem(
                _("`%(value)s` is not allowed here; expected one of: %(choices)s")
                % {"value": _shown(instance), "choices": ", ".join(map(str, value))},
                did_you_mean(instance, [str(v) for v in value]),
            )
        ]
    if validator == "const":
        return [
            problem(
                _("expected `%(expected)s`, found `%(value)s`")
                % {"expected": value, "value": _shown(instance)},
                _("this file format is %(expected)s") % {"expected": value} if parts == ["schema"] else "",
            )
        ]
    if validator == "pattern":
        return [
            problem(
                _("`%(value)s` is not a valid identifier") % {"value": _shown(instance)},
                _PATTERN_HINTS.get(value, _("it must match %(pattern)s") % {"pattern": value}),
            )
        ]
    if validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        templates = {
            "minimum": _("%(value)s is less than the minimum, %(limit)s"),
            "exclusiveMinimum": _("%(value)s must be more than %(limit)s"),
            "maximum": _("%(value)s is more than the maximum, %(limit)s"),
            "exclusiveMaximum": _("%(value)s must be less than %(limit)s"),
        }
        return [problem(templates[validator] % {"value": _shown(instance), "limit": value})]
    if validator == "minItems":
        if parts and parts[-1] == "branches":
            return [problem(_("a fork needs at least two branches"), _("a single path needs no fork"))]
        return [problem(_("needs at least %(count)s item(s)") % {"count": value})]
    if validator == "uniqueItems":
        return [problem(_("lists the same value twice"), _("remove the repeated value"))]
    if validator in ("minLength", "minProperties"):
        return [problem(_("must not be empty"))]
    if validator in ("maxLength", "maxItems", "maxProperties"):
        return [problem(_("is longer than allowed (%(limit)s)") % {"limit": value})]
    if validator == "propertyNames":
        return [problem(_("`%(value)s` is not a valid key here") % {"value": _shown(instance)})]
    return [problem(str(error.message)[:200])]


def schema_problems(
    data: Any, *, format_name: str, filename: str = "", lines: LineMap | None = None
) -> list[Problem]:
    """Problems of `data` against the JSON Schema of `format_name` ("pishkhan/process/1" or
    "pishkhan/variant/1"), each with the line of the offending path when `lines` knows it and a hint
    (a "did you mean" for typos in keys and enumerations)."""
    lines = lines or LineMap()
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    errors = sorted(
        _validator(format_name).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]
    )
    for error in errors:
        for problem in _schema_error_problems(error, data=data, filename=filename, lines=lines):
            key = (problem.path, problem.message)
            if key not in seen:
                seen.add(key)
                problems.append(problem)
    return problems


def format_problems(data: Any, *, filename: str, lines: LineMap) -> tuple[str | None, list[Problem]]:
    """The format a definition dict declares with `schema:` and, when it is not one we know, why."""
    declared = data.get("schema") if isinstance(data, dict) else None
    if isinstance(declared, str) and declared in SCHEMA_FILES:
        return declared, []
    if declared is None:
        message = _("`schema:` is missing")
    else:
        message = _("unknown format `%(value)s`") % {"value": _shown(declared)}
    hint = _("start the file with `schema: %(process)s` (or `%(variant)s` for a district variant)") % {
        "process": PROCESS_SCHEMA,
        "variant": VARIANT_SCHEMA,
    }
    return None, [_problem(filename, lines.line("schema") or 1, "schema", message, hint)]


# -- definitions -----------------------------------------------------------------------------------


@dataclass
class LoadResult:
    """What reading one definition file gave.

    `data`: the plain dict (None when the text could not be read as a mapping); `lines`: where each
    field path is; `format`: the `schema:` it declares when known; `definition`: the Definition
    objects when the data passed the JSON Schema (it may still have semantic errors); `problems`:
    every problem found — YAML, schema and, for a process, the semantic checks of
    catalog.validation. `ok` is True when none of them is an error."""

    data: dict | None
    lines: LineMap
    problems: list[Problem]
    definition: Definition | None = None
    format: str | None = None

    @property
    def ok(self) -> bool:
        return self.data is not None and not any(p.severity == ERROR for p in self.problems)

    @property
    def is_variant(self) -> bool:
        return self.format == VARIANT_SCHEMA


def load_definition_text(text: str, *, filename: str, known_roles: set[str] | None = None) -> LoadResult:
    """Read a process or variant definition from YAML text; never raises.

    A process (`schema: pishkhan/process/1`) is checked in full: YAML, JSON Schema, then the semantic
    checks (catalog.validation.validate_definition, with `known_roles` besides the standard and
    declared ones). A variant (`schema: pishkhan/variant/1`) is checked against its schema only: its
    semantic checks need the standard definition it patches (catalog.validation.validate_variant)."""
    data, lines, problems = load_yaml_text(text, filename=filename)
    if data is None:
        return LoadResult(data=None, lines=lines, problems=problems)
    format_name, unknown = format_problems(data, filename=filename, lines=lines)
    if format_name is None:
        return LoadResult(data=data, lines=lines, problems=problems + unknown)
    if format_name == VARIANT_SCHEMA:
        problems += schema_problems(data, format_name=format_name, filename=filename, lines=lines)
        return LoadResult(data=data, lines=lines, problems=problems, format=format_name)
    from .validation import definition_validate  # validation builds on this module

    definition, more = definition_validate(data, filename=filename, lines=lines, known_roles=known_roles)
    return LoadResult(
        data=data, lines=lines, problems=problems + more, definition=definition, format=format_name
    )


def load_definition_file(path: str | Path, *, known_roles: set[str] | None = None) -> LoadResult:
    """Read a definition file: YAML (.yaml, .yml) or BPMN (.bpmn, through catalog.bpmn); never
    raises. Problems name the file as given."""
    path = Path(path)
    filename = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return LoadResult(data=None, lines=LineMap(), problems=[_too_large(filename)])
        raw = path.read_bytes()
    except OSError as error:
        message = _("the file cannot be read: %(error)s") % {"error": error.strerror or type(error).__name__}
        return LoadResult(data=None, lines=LineMap(), problems=[_problem(filename, None, "", message)])
    return load_definition_bytes(raw, filename=filename, known_roles=known_roles)


def load_definition_bytes(raw: bytes, *, filename: str, known_roles: set[str] | None = None) -> LoadResult:
    """Read a definition from the bytes of a file (an upload, say): BPMN when `filename` ends in
    .bpmn, else UTF-8 YAML (a byte-order mark is allowed). Never raises."""
    if len(raw) > MAX_FILE_BYTES:
        return LoadResult(data=None, lines=LineMap(), problems=[_too_large(filename)])
    if filename.lower().endswith(".bpmn"):
        return _load_bpmn(raw, filename=filename, known_roles=known_roles)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        message = _("the file is not UTF-8 text (byte 0x%(byte)02x at offset %(offset)s)") % {
            "byte": raw[error.start],
            "offset": error.start,
        }
        hint = _("save it as UTF-8; Persian text from old Windows editors is often in Windows-1256")
        return LoadResult(data=None, lines=LineMap(), problems=[_problem(filename, line, "", message, hint)])
    return load_definition_text(text, filename=filename, known_roles=known_roles)


def _load_bpmn(raw: bytes, *, filename: str, known_roles: set[str] | None) -> LoadResult:
    try:
        from .bpmn import bpmn_import
    except ImportError:
        message = _("BPMN files cannot be read here: the BPMN importer is not installed")
        return LoadResult(data=None, lines=LineMap(), problems=[_problem(filename, None, "", message)])
    try:
        imported = bpmn_import(raw, filename=filename)
    except Exception as error:  # the importer is meant never to raise; if it does, report, do not crash
        message = _("the BPMN file could not be read (%(error)s)") % {"error": type(error).__name__}
        return LoadResult(data=None, lines=LineMap(), problems=[_problem(filename, None, "", message)])
    problems = list(imported.problems)
    data = imported.data
    if data is None or any(p.severity == ERROR for p in problems):
        return LoadResult(
            data=data, lines=LineMap(), problems=problems, format=PROCESS_SCHEMA if data else None
        )
    from .validation import definition_validate

    definition, more = definition_validate(data, filename=filename, known_roles=known_roles)
    return LoadResult(
        data=data, lines=LineMap(), problems=problems + more, definition=definition, format=PROCESS_SCHEMA
    )
