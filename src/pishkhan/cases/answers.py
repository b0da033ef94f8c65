"""Form answers checked against a process definition's fields (docs/process-format.md, "Form fields").

    cleaned, errors = answers_validate(definition, answers, language=None)

`answers` maps field ids to what the citizen (or the office, or the clerk) typed, as a JSON object
from the API or the values an HTML form produced. `cleaned` holds the stored form of every visible
answered field; `errors` maps a field path to its messages — empty when the answers are valid.

Paths: a top-level field is its id (`area_m2`); a sub-field of a group `group.sub`
(`contractor.name`); a sub-field of a repeated group `group[i].sub` with i counted from 0 as in
JSON (`owners[1].national_id` is the second owner); the group itself (`owners`) for the number of
rows. Unknown keys, at any level, are refused under their own path; `__all__` holds a problem with
the answers as a whole (not a JSON object).

Messages are in the active language (or `language`) and name the field by its label in that
language, e.g. "Area (m²): enter a number no larger than 1000." The row of a repeated group is
numbered from 1 in messages, as people count.

The stored form, per type:
- text, textarea: the text, stripped; an empty text is no answer.
- number: an int when the value is whole (12, "12", "۱۲", 12.0), a float when it is fractional
  (12.5, "۱۲٫۵"). CEL keeps int and double apart, so a fee over a number field that may be
  fractional must convert explicitly: `int(double(area_m2) * 1500.0)`.
- money: an int of Rials, ≥ 0; thousands separators (`,` `٬` spaces) are allowed, fractions not.
- national_id, mobile, postal_code: the core validators' ASCII form (Persian digits accepted).
- jalali_date: the Gregorian ISO date ("2025-03-21") of a Jalali date typed as 1404/01/01, in
  any digits; an ISO Gregorian date (year 1900 or later) is taken as it is, for API clients.
- boolean: True or False (also "true"/"false", "on", "1"/"0" from HTML forms). A required boolean
  must be true, as a required checkbox must be ticked (Django's rule); ask a yes/no question that
  needs an answer either way as a `choice`.
- choice: one of the option values; multi_choice: a list of option values, duplicates dropped.
- file: the id of an uploaded document (a string of letters, digits, `-` or `_`); uploading and
  checking the file is cases.documents' job.
- map_point: {"lat": float, "lng": float}, inside Iran's bounding box (a point elsewhere is a
  slip of the map, not an address the city serves).
- group: an object of sub-fields; with `repeat`, a list of such objects with min/max rows.

`visible_if` (CEL, catalog.expressions) is evaluated in the order fields are defined, over the
cleaned answers (unanswered fields read as null, unanswered booleans as false); a field whose
condition is false or cannot be evaluated is hidden: neither required nor kept, and its value —
even an invalid one — is dropped without complaint. A sub-field's condition sees its siblings too.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _

from pishkhan.catalog.definition import Definition, Field
from pishkhan.catalog.expressions import ExpressionError, expression_evaluate
from pishkhan.core import validators
from pishkhan.core.calendar import parse_jalali
from pishkhan.core.text import localize_digits, to_ascii_digits

TEXT_MAX_LENGTH = 1_000
TEXTAREA_MAX_LENGTH = 10_000
# Iran's bounding box, a little generous at the edges (degrees).
LAT_RANGE = (24.0, 40.5)
LNG_RANGE = (43.5, 64.0)
_DOCUMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_GROUPING = str.maketrans({",": None, "\u066c": None, "\u060c": None, "_": None, "\u066b": "."})
_TRUE = {"true", "on", "1", "yes"}
_FALSE = {"false", "off", "0", "no", ""}


class _Invalid(Exception):
    """One value is wrong; the message already names the field."""


def answers_validate(
    definition: Definition, answers: Any, *, language: str | None = None
) -> tuple[dict, dict[str, list[str]]]:
    """Check `answers` against the definition's fields and return (cleaned, errors).

    cleaned: the stored form of each visible, answered field (see the module docstring); errors:
    {path: [message, …]}, empty when valid. Never raises on bad input."""
    if language:
        with translation.override(language):
            return _validate(definition, answers)
    return _validate(definition, answers)


def _validate(definition: Definition, answers: Any) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        return {}, {"__all__": [_("The answers must be a set of fields and values.")]}
    cleaned = _clean_fields(definition.fields, answers, path="", context={}, errors=errors)
    return cleaned, errors


def _label(field: Field) -> str:
    return field.label.get(translation.get_language() or "fa")


def _add(errors: dict, path: str, message: str) -> None:
    errors.setdefault(path, []).append(message)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value


def _clean_fields(fields: list[Field], values: dict, *, path: str, context: dict, errors: dict) -> dict:
    """Clean one level of fields (the form, or one group row). `context` holds the values the
    level's visible_if conditions may read besides its own (a group row sees the top level)."""
    known = {f.id for f in fields}
    for key in values:
        if key not in known:
            _add(errors, _join(path, str(key)), _("There is no field “%(key)s” in this form.") % {"key": key})

    # First pass: every given value in its stored form (problems kept aside until we know which
    # fields are visible).
    candidates: dict[str, Any] = {}
    problems: dict[str, dict[str, list[str]]] = {}
    # Groups last: their sub-fields' conditions may read this level's plain fields.
    for field in sorted(fields, key=lambda f: f.type == "group"):
        raw = values.get(field.id)
        if _empty(raw):
            continue
        field_errors: dict[str, list[str]] = {}
        inner = {**context, **candidates}
        try:
            value = _clean_value(field, raw, path=_join(path, field.id), context=inner, errors=field_errors)
        except _Invalid as invalid:
            _add(field_errors, _join(path, field.id), str(invalid))
            value = None
        if field_errors:
            problems[field.id] = field_errors
        elif value is not None:
            candidates[field.id] = value

    # Second pass, in definition order: visibility, then required.
    scope = {**context, **{f.id: (False if f.type == "boolean" else None) for f in fields}, **candidates}
    cleaned: dict[str, Any] = {}
    for field in fields:
        if field.visible_if and not _visible(field.visible_if, scope):
            scope[field.id] = False if field.type == "boolean" else None
            continue
        if field.id in problems:
            for at, messages in problems[field.id].items():
                errors.setdefault(at, []).extend(messages)
            continue
        if field.id in candidates:
            cleaned[field.id] = candidates[field.id]
            continue
        missing = _missing_message(field)
        if missing:
            _add(errors, _join(path, field.id), missing)
    return cleaned


def _missing_message(field: Field) -> str | None:
    label = _label(field)
    if field.type == "group" and field.repeatable and (field.repeat_min or 0) > 0:
        return _("%(field)s: add at least %(min)s.") % {
            "field": label,
            "min": localize_digits(field.repeat_min),
        }
    if not field.required:
        return None
    if field.type == "boolean":
        return _("%(field)s: this must be confirmed.") % {"field": label}
    return _("%(field)s is required.") % {"field": label}


def _visible(condition: str, scope: dict) -> bool:
    try:
        return expression_evaluate(condition, scope) is True
    except ExpressionError:
        # A condition that cannot be evaluated (it reads a hidden or invalid field) cannot show
        # its field: hiding it is the answer that asks nothing of the person.
        return False


def _clean_value(field: Field, raw: Any, *, path: str, context: dict, errors: dict) -> Any:
    label = _label(field)
    cleaner = _CLEANERS[field.type]
    if field.type == "group":
        return cleaner(field, raw, label=label, path=path, context=context, errors=errors)
    return cleaner(field, raw, label=label)


# --- one cleaner per type ---------------------------------------------------------------------


def _text(max_length: int):
    def clean(field: Field, raw: Any, *, label: str) -> str:
        if not isinstance(raw, str):
            raise _Invalid(_("%(field)s: enter text.") % {"field": label})
        text = raw.replace("\x00", "").strip()
        if len(text) > max_length:
            raise _Invalid(
                _("%(field)s: at most %(max)s characters, please.")
                % {"field": label, "max": localize_digits(max_length)}
            )
        return text

    return clean


def _decimal_text(raw: str) -> str:
    text = to_ascii_digits(raw).translate(_GROUPING)
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) != "Cf")


def _bounds(field: Field, value: int | float, *, label: str) -> None:
    if field.min is not None and value < field.min:
        raise _Invalid(
            _("%(field)s: enter a number no smaller than %(min)s.")
            % {"field": label, "min": localize_digits(_shown(field.min))}
        )
    if field.max is not None and value > field.max:
        raise _Invalid(
            _("%(field)s: enter a number no larger than %(max)s.")
            % {"field": label, "max": localize_digits(_shown(field.max))}
        )


def _shown(number: int | float) -> int | float:
    return int(number) if isinstance(number, float) and number.is_integer() else number


def _number(field: Field, raw: Any, *, label: str) -> int | float:
    not_a_number = _("%(field)s: enter a number.") % {"field": label}
    if isinstance(raw, bool):
        raise _Invalid(not_a_number)
    if isinstance(raw, int):
        value: int | float = raw
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise _Invalid(not_a_number)
        value = int(raw) if raw.is_integer() else raw
    elif isinstance(raw, str):
        text = _decimal_text(raw)
        if re.fullmatch(r"[+-]?\d+", text):
            value = int(text)
        elif re.fullmatch(r"[+-]?(\d+\.\d*|\.\d+)", text):
            number = float(text)
            value = int(number) if number.is_integer() else number
        else:
            raise _Invalid(not_a_number)
    else:
        raise _Invalid(not_a_number)
    _bounds(field, value, label=label)
    return value


def _money(field: Field, raw: Any, *, label: str) -> int:
    message = _("%(field)s: enter a whole number of Rials.") % {"field": label}
    if isinstance(raw, bool):
        raise _Invalid(message)
    if isinstance(raw, float):
        if not (math.isfinite(raw) and raw.is_integer()):
            raise _Invalid(message)
        raw = int(raw)
    if isinstance(raw, str):
        text = _decimal_text(raw)
        if not re.fullmatch(r"[+-]?\d+", text):
            raise _Invalid(message)
        raw = int(text)
    if not isinstance(raw, int):
        raise _Invalid(message)
    if raw < 0:
        raise _Invalid(_("%(field)s: an amount cannot be negative.") % {"field": label})
    _bounds(field, raw, label=label)
    return raw


def _identifier(normalize):
    def clean(field: Field, raw: Any, *, label: str) -> str:
        if not isinstance(raw, str | int) or isinstance(raw, bool):
            raise _Invalid(_("%(field)s: enter digits.") % {"field": label})
        try:
            return normalize(str(raw))
        except ValidationError as error:
            raise _Invalid(
                _("%(field)s: %(problem)s") % {"field": label, "problem": " ".join(error.messages)}
            ) from None

    return clean


def _jalali_date(field: Field, raw: Any, *, label: str) -> str:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw.isoformat()
    if not isinstance(raw, str):
        raise _Invalid(_("%(field)s: enter a date like 1404/01/05.") % {"field": label})
    text = to_ascii_digits(raw).strip()
    iso = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso and int(iso.group(1)) >= 1900:
        try:
            return dt.date(*(int(part) for part in iso.groups())).isoformat()
        except ValueError:
            raise _Invalid(_("%(field)s: this date does not exist.") % {"field": label}) from None
    try:
        return parse_jalali(raw).isoformat()
    except ValueError as error:
        raise _Invalid(_("%(field)s: %(problem)s") % {"field": label, "problem": error}) from None


def _boolean(field: Field, raw: Any, *, label: str) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
        return raw.strip().lower() in _TRUE
    if isinstance(raw, int) and raw in (0, 1):
        return bool(raw)
    raise _Invalid(_("%(field)s: answer yes or no.") % {"field": label})


def _option_values(field: Field) -> list[str]:
    return [option.value for option in field.options]


def _choice(field: Field, raw: Any, *, label: str) -> str:
    values = _option_values(field)
    if isinstance(raw, bool) or not isinstance(raw, str | int) or str(raw) not in values:
        raise _Invalid(_("%(field)s: choose one of the options offered.") % {"field": label})
    return str(raw)


def _multi_choice(field: Field, raw: Any, *, label: str) -> list[str]:
    values = _option_values(field)
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise _Invalid(_("%(field)s: choose from the options offered.") % {"field": label})
    chosen: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, str | int) or str(item) not in values:
            raise _Invalid(_("%(field)s: choose from the options offered.") % {"field": label})
        if str(item) not in chosen:
            chosen.append(str(item))
    return chosen


def _file(field: Field, raw: Any, *, label: str) -> str:
    if (
        isinstance(raw, bool)
        or not isinstance(raw, str | int)
        or not _DOCUMENT_ID.fullmatch(str(raw).strip())
    ):
        raise _Invalid(_("%(field)s: upload the document, then send the form.") % {"field": label})
    return str(raw).strip()


def _coordinate(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(_decimal_text(value))
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _map_point(field: Field, raw: Any, *, label: str) -> dict:
    message = _("%(field)s: choose a point on the map.") % {"field": label}
    if not isinstance(raw, dict) or set(raw) - {"lat", "lng"}:
        raise _Invalid(message)
    lat, lng = _coordinate(raw.get("lat")), _coordinate(raw.get("lng"))
    if lat is None or lng is None:
        raise _Invalid(message)
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LNG_RANGE[0] <= lng <= LNG_RANGE[1]):
        raise _Invalid(
            _("%(field)s: the point is outside Iran; choose it again on the map.") % {"field": label}
        )
    return {"lat": lat, "lng": lng}


def _group(field: Field, raw: Any, *, label: str, path: str, context: dict, errors: dict) -> Any:
    if not field.repeatable:
        if not isinstance(raw, dict):
            raise _Invalid(_("%(field)s: fill in its fields.") % {"field": label})
        return _clean_fields(field.fields, raw, path=path, context=context, errors=errors)
    if not isinstance(raw, list | tuple):
        raise _Invalid(_("%(field)s: give a list of rows.") % {"field": label})
    if field.repeat_min is not None and len(raw) < field.repeat_min:
        raise _Invalid(
            _("%(field)s: add at least %(min)s.") % {"field": label, "min": localize_digits(field.repeat_min)}
        )
    if field.repeat_max is not None and len(raw) > field.repeat_max:
        raise _Invalid(
            _("%(field)s: at most %(max)s rows, please.")
            % {"field": label, "max": localize_digits(field.repeat_max)}
        )
    rows = []
    for index, row in enumerate(raw):
        row_path = f"{path}[{index}]"
        if not isinstance(row, dict):
            _add(
                errors,
                row_path,
                _("%(field)s, row %(row)s: fill in its fields.")
                % {"field": label, "row": localize_digits(index + 1)},
            )
            continue
        row_errors: dict[str, list[str]] = {}
        rows.append(_clean_fields(field.fields, row, path=row_path, context=context, errors=row_errors))
        for at, messages in row_errors.items():
            # Name the row too: "Owners, row 2 — National ID is required."
            prefix = _("%(field)s, row %(row)s") % {"field": label, "row": localize_digits(index + 1)}
            errors.setdefault(at, []).extend(f"{prefix} — {message}" for message in messages)
    return rows


_CLEANERS = {
    "text": _text(TEXT_MAX_LENGTH),
    "textarea": _text(TEXTAREA_MAX_LENGTH),
    "number": _number,
    "money": _money,
    "national_id": _identifier(validators.normalize_national_id),
    "mobile": _identifier(validators.normalize_mobile),
    "postal_code": _identifier(validators.normalize_postal_code),
    "jalali_date": _jalali_date,
    "boolean": _boolean,
    "choice": _choice,
    "multi_choice": _multi_choice,
    "file": _file,
    "map_point": _map_point,
    "group": _group,
}
