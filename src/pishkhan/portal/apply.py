"""Applying online: the HTML form drawn from a definition's fields, the answers read back from a
POST, and the citizen's draft.

The form has no rules of its own. `answers_from_post` only reshapes the POSTed strings into the
nested answers `cases.answers.answers_validate` expects (groups as objects, repeated groups as
lists of rows, map points as {lat, lng}); the validator (called by `case_submit`) decides what is
valid and which conditional fields count. `form_widgets` turns the definition, the values typed so
far and the validator's errors (keyed by field path, `owners[1].national_id`) into plain dicts the
templates draw, so a form sent back with errors keeps everything that was typed.

HTML names are the validator's paths: `area_m2`, `contractor.name`, `owners[0].share`, and
`site.lat` / `site.lng` for a map point. `file` fields are not in the form: documents are uploaded
on the case page after filing."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import transaction
from django.http import QueryDict

from pishkhan.catalog.definition import Definition, Field

from .models import ApplicationDraft

# Names the form itself uses; a field id never starts with an underscore.
TOKEN_NAME = "_token"  # noqa: S105 - the name of the one-time token field, not a secret
ACTION_NAME = "_action"
DISTRICT_NAME = "_district"
# Rows read from one POST at most, whatever repeat.max says: it bounds the work, and the
# validator still refuses more rows than repeat.max.
ROW_LIMIT = 200
_ROW_KEY = re.compile(r"^(?P<group>[a-z][a-z0-9_]*)\[(?P<index>\d{1,4})\]\.")
# `field == 'value'`, `field == "value"`, `field == true|false`: the conditions the browser can
# follow; anything else the server decides when the form is sent.
_SIMPLE_CONDITION = re.compile(
    r"""^\s*(?P<field>[a-z][a-z0-9_]*)\s*==\s*(?:'(?P<single>[^'\\]*)'|"(?P<double>[^"\\]*)"|(?P<bool>true|false))\s*$"""
)
NUMERIC_TYPES = ("number", "money", "national_id", "mobile", "postal_code")
LTR_TYPES = ("national_id", "mobile", "postal_code")


# --- reading a POST ------------------------------------------------------------------------------


def _level_values(fields: list[Field], data: QueryDict, prefix: str) -> dict:
    values: dict = {}
    for f in fields:
        name = prefix + f.id
        if f.type == "file":
            continue
        if f.type == "multi_choice":
            chosen = [v for v in data.getlist(name) if v]
            if chosen:
                values[f.id] = chosen
        elif f.type == "map_point":
            lat, lng = data.get(name + ".lat", "").strip(), data.get(name + ".lng", "").strip()
            if lat or lng:
                values[f.id] = {"lat": lat, "lng": lng}
        elif f.type == "group" and f.repeatable:
            rows = _rows(f, data, name)
            if rows:
                values[f.id] = rows
        elif f.type == "group":
            inner = _level_values(f.fields, data, name + ".")
            if inner:
                values[f.id] = inner
        else:
            value = data.get(name, "")
            if value.strip():
                values[f.id] = value
    return values


def _rows(group: Field, data: QueryDict, name: str) -> list[dict]:
    """The rows of a repeated group in the order of their index; rows left wholly empty (an added
    row not filled in) are dropped, so row numbers in messages count the rows that say something."""
    indexes = set()
    for key in data:
        match = _ROW_KEY.match(key)
        if match and match["group"] == name:
            indexes.add(int(match["index"]))
    rows = []
    for index in sorted(indexes)[:ROW_LIMIT]:
        row = _level_values(group.fields, data, f"{name}[{index}].")
        if row:
            rows.append(row)
    return rows


def answers_from_post(definition: Definition, data: QueryDict) -> dict:
    """The answers in the shape answers_validate reads, still as typed (strings): an unchecked
    box and an empty box are no answer."""
    return _level_values(definition.fields, data, "")


# --- drawing the form ----------------------------------------------------------------------------


@dataclass
class Widget:
    """One field as the template draws it. `name` is the field's path (the HTML name); `html_id`
    the id its label points at; `value` what was typed (a list for multi_choice, a dict for a
    map point); `rows` the rows of a repeated group (lists of widgets); `children` a group's."""

    field: Field
    name: str
    html_id: str
    label: str
    help: str
    type: str
    required: bool
    value: object = ""
    errors: list[str] = field(default_factory=list)
    options: list[dict] = field(default_factory=list)
    children: list[Widget] = field(default_factory=list)
    rows: list[list[Widget]] = field(default_factory=list)
    visible_if_field: str = ""
    visible_if_value: str = ""
    conditional: bool = False
    numeric: bool = False
    ltr: bool = False
    row_min: int = 0
    row_max: int | None = None

    @property
    def error_id(self) -> str:
        return self.html_id + "-error"

    @property
    def help_id(self) -> str:
        return self.html_id + "-help"


def html_id(name: str) -> str:
    return "f-" + re.sub(r"[^a-z0-9_]+", "-", name).strip("-")


def _simple_condition(condition: str) -> tuple[str, str] | None:
    match = _SIMPLE_CONDITION.match(condition or "")
    if not match:
        return None
    value = match["bool"] or (match["single"] if match["single"] is not None else match["double"])
    return match["field"], value


def _widgets(fields: list[Field], values: dict, errors: dict, *, prefix: str, language: str) -> list[Widget]:
    ids_here = {f.id for f in fields}
    widgets = []
    for f in fields:
        name = prefix + f.id
        value = values.get(f.id) if isinstance(values, dict) else None
        widget = Widget(
            field=f,
            name=name,
            html_id=html_id(name),
            label=f.label.get(language),
            help=f.help.get(language) if f.help else "",
            type=f.type,
            required=f.required,
            errors=list(errors.get(name, [])),
            conditional=bool(f.visible_if),
            numeric=f.type in NUMERIC_TYPES,
            ltr=f.type in LTR_TYPES,
        )
        simple = _simple_condition(f.visible_if)
        if simple is not None:
            # A sub-field's condition reads its sibling first, else the top level.
            target, expected = simple
            widget.visible_if_field = prefix + target if target in ids_here else target
            widget.visible_if_value = expected
        if f.type in ("choice", "multi_choice"):
            chosen = value if isinstance(value, list) else [value] if value else []
            widget.options = [
                {
                    "value": o.value,
                    "label": o.label.get(language),
                    "checked": o.value in [str(c) for c in chosen],
                    "html_id": f"{widget.html_id}-{index}",
                }
                for index, o in enumerate(f.options)
            ]
            widget.value = chosen
        elif f.type == "map_point":
            widget.value = value if isinstance(value, dict) else {"lat": "", "lng": ""}
        elif f.type == "group" and f.repeatable:
            rows = value if isinstance(value, list) else []
            widget.row_min = f.repeat_min or 0
            widget.row_max = f.repeat_max
            shown = max(len(rows), widget.row_min, 1)
            widget.rows = [
                _widgets(
                    f.fields,
                    rows[i] if i < len(rows) else {},
                    errors,
                    prefix=f"{name}[{i}].",
                    language=language,
                )
                for i in range(shown)
            ]
            for i in range(shown):
                widget.errors += errors.get(f"{name}[{i}]", [])
        elif f.type == "group":
            widget.children = _widgets(
                f.fields,
                value if isinstance(value, dict) else {},
                errors,
                prefix=name + ".",
                language=language,
            )
        elif f.type == "boolean":
            widget.value = bool(value) and str(value).strip().lower() in ("on", "true", "1", "yes")
        elif f.type != "file":
            widget.value = value if isinstance(value, str) else ("" if value is None else str(value))
        widgets.append(widget)
    return widgets


def form_widgets(definition: Definition, values: dict, errors: dict, *, language: str) -> list[Widget]:
    """The widgets of the whole form, filled with `values` (answers_from_post's shape) and with
    each error path's messages on its widget."""
    return _widgets(definition.fields, values or {}, errors or {}, prefix="", language=language)


def required_files(definition: Definition) -> list[Field]:
    """Required file fields, top level or in groups: the form cannot fill them, so the page says so
    and the validator's message for them shows when the form is sent."""
    found = []

    def walk(fields):
        for f in fields:
            if f.type == "file" and f.required:
                found.append(f)
            walk(f.fields)

    walk(definition.fields)
    return found


# --- drafts --------------------------------------------------------------------------------------


def draft_get(*, user, service) -> ApplicationDraft | None:
    return ApplicationDraft.objects.filter(user=user, service=service).first()


def draft_save(*, user, service, data: dict) -> ApplicationDraft:
    """Keep what the person typed so far (unchecked: a draft may be half-filled or wrong); one
    draft per person and service, the newest wins."""
    with transaction.atomic():
        draft, _created = ApplicationDraft.objects.update_or_create(
            user=user, service=service, defaults={"data": data}
        )
    return draft


def draft_discard(*, user, service) -> None:
    ApplicationDraft.objects.filter(user=user, service=service).delete()
