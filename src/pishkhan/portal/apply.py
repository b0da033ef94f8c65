"""Applying online: the HTML form drawn from a definition's fields, the answers read back from a
POST, and the citizen's draft.

The form has no rules of its own. `answers_from_post` only reshapes the POSTed strings into the
nested answers `cases.answers.answers_validate` expects (groups as objects, repeated groups as
lists of rows, map points as {lat, lng}); the validator (called by `case_submit`) decides what is
valid and which conditional fields count. `form_widgets` turns the definition, the values typed so
far and the validator's errors (keyed by field path, `owners[1].national_id`) into plain dicts the
templates draw, so a form sent back with errors keeps everything that was typed.

HTML names are the validator's paths: `area_m2`, `contractor.name`, `owners[0].share`, and
`site.lat` / `site.lng` for a map point. A `file` field is an upload control (portal.uploads): the
file is checked and kept with the draft as soon as it arrives, and its answer is the kept file's
SHA-256, which `answers_from_post` reads from the kept files when the form is sent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy
from django.utils.translation import gettext as _

from pishkhan.accounts.models import District
from pishkhan.cases.models import Case, SubmissionKey
from pishkhan.catalog.definition import Definition, Field
from pishkhan.core.calendar import local_date, to_jalali

from .models import ApplicationDraft
from .uploads import (
    REMOVE_NAME,
    ROW_LIMIT,
    ROW_NUMBER,
    SLOT_NAME,
    UploadSlot,
    files_renamed,
    kept_for_page,
    slot_named,
    upload_slots,
)

# Names the form itself uses; a field id never starts with an underscore.
TOKEN_NAME = "_token"  # noqa: S105 - the name of the one-time token field, not a secret
ACTION_NAME = "_action"
# The `_action` of a repeated group's "Add a row" button, followed by the group's name: the page
# comes back with one more row (the button's script adds it in place when the browser runs it).
ADD_ROW = "add-row:"
DISTRICT_NAME = "_district"
# What follows a repeated group's name in the names of its rows' fields: `[3].`.
_ROW_KEY = re.compile(ROW_NUMBER.pattern + r"\.")
# `field == 'value'`, `field == "value"`, `field == true|false`: the conditions the browser can
# follow; anything else the server decides when the form is sent.
_SIMPLE_CONDITION = re.compile(
    r"""^\s*(?P<field>[a-z][a-z0-9_]*)\s*==\s*(?:'(?P<single>[^'\\]*)'|"(?P<double>[^"\\]*)"|(?P<bool>true|false))\s*$"""
)
# The calendar's names. Month names are the Persian ones, transliterated in English.
JALALI_MONTHS = (
    gettext_lazy("Farvardin"),
    gettext_lazy("Ordibehesht"),
    gettext_lazy("Khordad"),
    gettext_lazy("Tir"),
    gettext_lazy("Mordad"),
    gettext_lazy("Shahrivar"),
    gettext_lazy("Mehr"),
    gettext_lazy("Aban"),
    gettext_lazy("Azar"),
    gettext_lazy("Dey"),
    gettext_lazy("Bahman"),
    gettext_lazy("Esfand"),
)
# The week starts on Saturday in Iran.
WEEKDAY_NAMES = (
    gettext_lazy("Saturday"),
    gettext_lazy("Sunday"),
    gettext_lazy("Monday"),
    gettext_lazy("Tuesday"),
    gettext_lazy("Wednesday"),
    gettext_lazy("Thursday"),
    gettext_lazy("Friday"),
)
WEEKDAY_INITIALS = (
    pgettext_lazy("weekday initial", "Sa"),
    pgettext_lazy("weekday initial", "Su"),
    pgettext_lazy("weekday initial", "Mo"),
    pgettext_lazy("weekday initial", "Tu"),
    pgettext_lazy("weekday initial", "We"),
    pgettext_lazy("weekday initial", "Th"),
    pgettext_lazy("weekday initial", "Fr"),
)
NUMERIC_TYPES = ("number", "money", "national_id", "mobile", "postal_code")
LTR_TYPES = ("national_id", "mobile", "postal_code")


# --- reading a POST ------------------------------------------------------------------------------


def _row_numbers(name: str, keys) -> set[int]:
    """The rows of the repeated group `name` that form names in `keys` belong to: 3 for
    `owners[3].share`."""
    numbers = set()
    for key in keys:
        match = _ROW_KEY.match(key, len(name)) if key.startswith(name + "[") else None
        if match:
            numbers.add(int(match[1]))
    return numbers


class _PostReader:
    """Reads one POST into answers: `files` are the kept files (name: record), `moved` collects
    the rows that moved up ({old row's name: new row number}, `owners[3]`: 2)."""

    def __init__(self, data: QueryDict, files: dict[str, dict]):
        self.data, self.files = data, files
        self.moved: dict[str, int] = {}

    def level(self, fields: list[Field], prefix: str) -> dict:
        data, values = self.data, {}
        for f in fields:
            name = prefix + f.id
            if f.type == "file":
                record = self.files.get(name)
                if record is not None:
                    values[f.id] = record["sha256"]
            elif f.type == "multi_choice":
                chosen = [v for v in data.getlist(name) if v]
                if chosen:
                    values[f.id] = chosen
            elif f.type == "map_point":
                lat, lng = data.get(name + ".lat", "").strip(), data.get(name + ".lng", "").strip()
                if lat or lng:
                    values[f.id] = {"lat": lat, "lng": lng}
            elif f.type == "group" and f.repeatable:
                rows = self.rows(f, name)
                if rows:
                    values[f.id] = rows
            elif f.type == "group":
                inner = self.level(f.fields, name + ".")
                if inner:
                    values[f.id] = inner
            else:
                value = data.get(name, "")
                if value.strip():
                    values[f.id] = value
        return values

    def rows(self, group: Field, name: str) -> list[dict]:
        """The rows of a repeated group in the order of their number — those with a field sent
        or a file kept; rows that say nothing (added and not filled in) are dropped and the rows
        after them move up, so row numbers in messages count the rows that say something."""
        rows = []
        for index in sorted(_row_numbers(name, (*self.data, *self.files)))[:ROW_LIMIT]:
            row = self.level(group.fields, f"{name}[{index}].")
            if row:
                if index != len(rows):
                    self.moved[f"{name}[{index}]"] = len(rows)
                rows.append(row)
        return rows


def answers_from_post(
    definition: Definition, data: QueryDict, *, files: dict[str, dict] | None = None
) -> tuple[dict, dict[str, int]]:
    """The answers in the shape answers_validate reads, still as typed (strings): an unchecked
    box and an empty box are no answer. A file field is answered by the SHA-256 of the file kept
    for it in `files` (portal.uploads.kept_in_form's records, by name).

    Also returns the rows of repeated groups that moved up: the names of their files and
    messages move with them (row_renamed)."""
    reader = _PostReader(data, files or {})
    return reader.level(definition.fields, ""), reader.moved


def _repeated_groups(fields: list[Field], prefix: str = "") -> set[str]:
    """The names of the repeated groups among `fields`, with `[]` for the rows they sit in."""
    found = set()
    for f in fields:
        if f.type == "group":
            name = prefix + f.id
            if f.repeatable:
                found.add(name)
            found |= _repeated_groups(f.fields, name + ("[]." if f.repeatable else "."))
    return found


def row_to_add(definition: Definition, action: str) -> str:
    """The repeated group an `_action` of ADD_ROW names (`owners`, `contractor.partners`), or ""
    when it names none of the form's."""
    name = action.removeprefix(ADD_ROW) if action.startswith(ADD_ROW) else ""
    return name if name and ROW_NUMBER.sub("[]", name) in _repeated_groups(definition.fields) else ""


def row_renamed(name: str, moved: dict[str, int]) -> str:
    """`name` (`owners[3].id_card`) with each row number that moved replaced by the new one
    (`owners[2].id_card`); `moved` is answers_from_post's."""
    if not moved:
        return name
    parts, start = [], 0
    for match in ROW_NUMBER.finditer(name):
        parts += [name[start : match.start()], f"[{moved.get(name[: match.end()], match[1])}]"]
        start = match.end()
    return "".join(parts) + name[start:]


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
    upload: UploadSlot | None = None
    kept: dict | None = None
    autofocus: bool = False

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


def _widgets(
    fields: list[Field],
    values: dict,
    errors: dict,
    *,
    prefix: str,
    language: str,
    slots: list[UploadSlot],
    kept: dict[str, dict],
    add_row: str = "",
) -> list[Widget]:
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
            shown = max(len(rows), widget.row_min, 1, _rows_with_files(name, kept))
            added = name == add_row and shown < (f.repeat_max or ROW_LIMIT)
            widget.rows = [
                _widgets(
                    f.fields,
                    rows[i] if i < len(rows) else {},
                    errors,
                    prefix=f"{name}[{i}].",
                    language=language,
                    slots=slots,
                    kept=kept,
                    add_row=add_row,
                )
                for i in range(shown + added)
            ]
            if added and widget.rows[-1]:
                widget.rows[-1][0].autofocus = True  # where the person goes on typing
            for i in range(shown):
                widget.errors += errors.get(f"{name}[{i}]", [])
        elif f.type == "group":
            widget.children = _widgets(
                f.fields,
                value if isinstance(value, dict) else {},
                errors,
                prefix=name + ".",
                language=language,
                slots=slots,
                kept=kept,
                add_row=add_row,
            )
        elif f.type == "file":
            widget.upload = slot_named(slots, name)
            widget.kept = kept.get(name)
        elif f.type == "boolean":
            widget.value = bool(value) and str(value).strip().lower() in ("on", "true", "1", "yes")
        else:
            widget.value = value if isinstance(value, str) else ("" if value is None else str(value))
        widgets.append(widget)
    return widgets


def _rows_with_files(name: str, kept: dict[str, dict]) -> int:
    """How many rows of the repeated group `name` the form must show for every kept file of its
    rows to be in one (a file kept for a row added in the browser, then the page reloaded)."""
    return max(_row_numbers(name, kept), default=-1) + 1


def form_widgets(
    definition: Definition,
    values: dict,
    errors: dict,
    *,
    language: str,
    slots: list[UploadSlot] | None = None,
    kept: dict[str, dict] | None = None,
    add_row: str = "",
) -> list[Widget]:
    """The widgets of the whole form, filled with `values` (answers_from_post's shape) and with
    each error path's messages on its widget; a file field's widget carries its upload slot and
    the file kept for it (portal.uploads.kept_for_page's records). The repeated group named
    `add_row` gets one more, empty row (its first field focused), up to its `repeat.max`."""
    return _widgets(
        definition.fields,
        values or {},
        errors or {},
        prefix="",
        language=language,
        slots=slots or [],
        kept=kept or {},
        add_row=add_row,
    )


def files_outside_form(definition: Definition, slots: list[UploadSlot]) -> list[Field]:
    """Required file fields the form has no upload control for (naming no document): the page
    says so and the validator's message shows when it is sent."""
    inside = {id(slot.field) for slot in slots if slot.field is not None}
    found = []

    def walk(fields):
        for f in fields:
            if f.type == "file" and f.required and id(f) not in inside:
                found.append(f)
            walk(f.fields)

    walk(definition.fields)
    return found


def case_for_token(*, user, token: str) -> Case | None:
    """The case this person already filed with the form's one-time token, if any: a form sent
    again after it worked (a double click that arrives late, a retry) leads to that case instead
    of asking for the files the first request already used up."""
    if not token:
        return None
    row = (
        SubmissionKey.objects.select_related("case").filter(user=user, key=token, case__isnull=False).first()
    )
    return row.case if row is not None else None


# --- the page around the form --------------------------------------------------------------------


def _field_types(fields: list[Field]) -> set[str]:
    types = set()
    for f in fields:
        types.add(f.type)
        types |= _field_types(f.fields)
    return types


def browser_texts(*, now: dt.datetime | None = None) -> dict:
    """What the form's scripts say, in the active language, and today's Jalali date in Tehran (the
    calendar opens on it): given to the page as JSON (json_script), never built in JavaScript."""
    today = to_jalali(local_date(now or timezone.now()))
    return {
        "persianDigits": (get_language() or "fa").startswith("fa"),
        "today": [today.year, today.month, today.day],
        "months": [str(name) for name in JALALI_MONTHS],
        "weekdays": [str(name) for name in WEEKDAY_INITIALS],
        "weekdayNames": [str(name) for name in WEEKDAY_NAMES],
        "openCalendar": _("Choose the date from a calendar"),
        "calendar": _("Calendar"),
        "previousMonth": _("Previous month"),
        "nextMonth": _("Next month"),
        "todayButton": _("Today"),
        "close": _("Close"),
        "uploading": _("Uploading… {percent} percent"),
        "uploaded": _("Uploaded: the file is kept with this form."),
        "uploadFailed": _("The upload did not finish; check the connection and choose the file again."),
        "removed": _("The file was removed."),
        "mapLabel": _("Map: click to mark the place; drag the marker to move it"),
        "marker": _("The chosen place"),
        "zoomIn": _("Zoom in"),
        "zoomOut": _("Zoom out"),
    }


def map_settings() -> dict:
    """The map point widget's data: the tile URL template (settings.MAP_TILES; no tiles when it is
    empty, and the districts' outlines still show where to click), its attribution, and each
    district with a boundary as GeoJSON."""
    return {
        "tiles": getattr(settings, "MAP_TILES", "") or "",
        "attribution": getattr(settings, "MAP_ATTRIBUTION", "") or "",
        "districts": [
            {"code": d.code, "name": str(d), "boundary": d.boundary}
            for d in District.objects.exclude(boundary__isnull=True).order_by("number")
            if isinstance(d.boundary, dict)
        ],
    }


def form_context(
    *,
    definition: Definition,
    values: dict,
    errors: dict,
    kept: dict[str, dict],
    language: str,
    upload_url: str,
    add_row: str = "",
) -> dict:
    """The context the apply form and the office counter share: the widgets, the upload controls
    of the first step's documents, what the form cannot take, and what the page's scripts need
    (the Leaflet files and the map's data only when the form has a map point)."""
    slots = upload_slots(definition, language=language)
    shown = kept_for_page(slots, kept)
    types = _field_types(definition.fields)
    in_form = {slot.document.id for slot in slots}
    return {
        "widgets": form_widgets(
            definition, values, errors, language=language, slots=slots, kept=shown, add_row=add_row
        ),
        "document_slots": [
            {"slot": slot, "kept": shown.get(slot.name), "errors": errors.get(slot.name, [])}
            for slot in slots
            if slot.field is None
        ],
        "required_files": [f.label.get(language) for f in files_outside_form(definition, slots)],
        "has_documents": any(d.id not in in_form for d in definition.documents),
        "has_uploads": bool(slots),
        "has_dates": "jalali_date" in types,
        "has_map": "map_point" in types,
        "map_settings": map_settings() if "map_point" in types else None,
        "browser_texts": browser_texts(),
        "upload_url": upload_url,
        "remove_name": REMOVE_NAME,
        "slot_name": SLOT_NAME,
        "action_name": ACTION_NAME,
        "add_row_action": ADD_ROW,
    }


# --- drafts --------------------------------------------------------------------------------------


def draft_get(*, user, service) -> ApplicationDraft | None:
    return ApplicationDraft.objects.filter(user=user, service=service).first()


def draft_save(*, user, service, data: dict) -> ApplicationDraft:
    """Keep what the person typed so far (unchecked: a draft may be half-filled or wrong); one
    draft per person and service, the newest wins. The files kept with the draft stay."""
    with transaction.atomic():
        draft = ApplicationDraft.objects.select_for_update().filter(user=user, service=service).first()
        if draft is None:
            return ApplicationDraft.objects.create(user=user, service=service, data=data)
        files = draft.data.get("files") if isinstance(draft.data, dict) else None
        draft.data = {**data, "files": files} if files else data
        draft.save(update_fields=["data", "updated_at"])
    return draft


def draft_discard(*, user, service) -> None:
    ApplicationDraft.objects.filter(user=user, service=service).delete()


class DraftFiles:
    """The files kept with a citizen's draft (portal.uploads.KeptFiles), in `data["files"]`. Keeping
    a file makes the draft if there is none yet, so a file chosen before anything else was typed
    is not lost either."""

    def __init__(self, *, user, service):
        self.user, self.service = user, service

    def all(self) -> dict[str, dict]:
        draft = draft_get(user=self.user, service=self.service)
        files = draft.data.get("files") if draft is not None and isinstance(draft.data, dict) else None
        return dict(files) if isinstance(files, dict) else {}

    def _change(self, change) -> None:
        with transaction.atomic():
            draft, _created = ApplicationDraft.objects.select_for_update().get_or_create(
                user=self.user, service=self.service, defaults={"data": {}}
            )
            data = draft.data if isinstance(draft.data, dict) else {}
            files = data.get("files") if isinstance(data.get("files"), dict) else {}
            change(files)
            draft.data = {**data, "files": files}
            draft.save(update_fields=["data", "updated_at"])

    def keep(self, name: str, record: dict) -> None:
        self._change(lambda files: files.__setitem__(name, record))

    def forget(self, name: str) -> None:
        self._change(lambda files: files.pop(name, None))

    def rename(self, names: dict[str, str]) -> None:
        self._change(lambda files: files_renamed(files, names))
