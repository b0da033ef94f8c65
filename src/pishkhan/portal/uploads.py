"""Files inside the application form: which uploads a definition's form takes, checking and keeping
each file until the form is sent, and turning the kept files into the new case's documents.

    upload_slots(definition, *, language) -> list[UploadSlot]
    slot_named(slots, name) -> UploadSlot | None
    upload_keep(*, slot, upload, by) -> dict                            raises DocumentRejected
    uploads_receive(*, slots, files, kept, by) -> (errors, status)
    kept_in_form(slots, kept) -> dict
    documents_attach(*, case, definition, slots, kept, by)              raises DocumentRejected

A slot is one upload control: a `file` field whose `document:` names one of the definition's
documents, or a document the first step asks for that no file field uploads. Its rules (formats,
size) are the document's (cases.documents); its HTML name is the field's path (`deed_scan`,
`contractor.licence`) or `_document.<id>` (a field id never starts with `_`). A file field inside a
repeated group has one control per row: its slot's name holds `[]` where the row goes
(`owners[].id_card`), and `slot_named` gives the slot of one row (`owners[2].id_card`), so each
owner's ID card is its own file and becomes its own document.

A file is checked by cases.files the moment it arrives — the same checks as any upload to a case,
nothing stored when it is refused — and stored content-addressed; the form keeps a small record of
it, {"sha256", "name", "size", "format"}, in a `KeptFiles` (the citizen's draft, or at the office
counter the operator's session with the citizen's consent), so an error elsewhere in the form, or
coming back to the draft a week later, does not lose it. A file field's answer is the kept file's
SHA-256, which is also how the case's document is found again. When the case is filed each kept
file is uploaded to it through `document_upload` (checked once more, attached with an event), in
the same transaction as the filing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core.files import File
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from pishkhan.cases.documents import definition_document_rules, document_upload
from pishkhan.cases.files import (
    FORMAT_LABELS,
    FORMATS,
    DocumentRejected,
    file_check,
    file_open,
    file_store,
    files_unused_purge,
)
from pishkhan.cases.models import Case, CaseDocument, StoredFile
from pishkhan.catalog.definition import Definition, Document, Field
from pishkhan.core.ratelimit import rate_limit_hit
from pishkhan.core.text import localize_digits

DOCUMENT_PREFIX = "_document."
# Files one person may send to application forms in an hour. Every accepted file stays in storage
# (content-addressed) even if the form is never sent, so an unbounded endpoint would let one
# account fill the disk; a busy office counter uploads a few dozen scans an hour.
UPLOADS_PER_HOUR = 120
# The one form field name the upload endpoint reads besides the file itself.
SLOT_NAME = "slot"
REMOVE_NAME = "_remove"
# Rows of a repeated group read from one POST at most, whatever repeat.max says: it bounds the
# work, and the validator still refuses more rows than repeat.max.
ROW_LIMIT = 200
# A row number in a name, `[3]`, written as the form writes it (no leading zeros).
ROW_NUMBER = re.compile(r"\[(0|[1-9][0-9]{0,3})\]")


@dataclass(frozen=True)
class UploadSlot:
    """One upload control of the form. `name` is the HTML name and the key of the kept file;
    `field` is None for a document of the first step that no file field uploads. `rows`: for a
    file field inside repeated groups, how many rows each group may have (the name then holds a
    `[]` for each, or the row numbers in a row's slot)."""

    name: str
    label: str
    help: str
    document: Document
    field: Field | None
    formats: tuple[str, ...]
    max_bytes: int
    required: bool
    rows: tuple[int, ...] = ()

    @property
    def html_id(self) -> str:
        from .apply import html_id  # apply imports this module; the ids must be the form's own

        return html_id(self.name)

    @property
    def accept(self) -> str:
        """The `accept` attribute: every extension and the content type of each allowed format."""
        parts = []
        for code in self.formats:
            content_type, extensions = FORMATS[code]
            parts += [f".{extension}" for extension in extensions] + [content_type]
        return ",".join(parts)

    @property
    def title(self) -> str:
        """The label as messages name the slot: a row's says which row, "ID card (row 2)"."""
        numbers = ROW_NUMBER.findall(self.name)
        if not numbers:
            return self.label
        row = "/".join(str(int(number) + 1) for number in numbers)
        return _("%(label)s (row %(row)s)") % {"label": self.label, "row": localize_digits(row)}

    @property
    def rules_text(self) -> str:
        """The control's help line, "PDF, JPEG or PNG; up to 10 MB.", in the active language."""
        kinds = get_text_list([FORMAT_LABELS.get(code, code.upper()) for code in self.formats], _("or"))
        return _("%(kinds)s; up to %(size)s.") % {"kinds": kinds, "size": size_text(self.max_bytes)}

    @property
    def too_large_text(self) -> str:
        return _("%(field)s: the file is larger than %(size)s, the limit for this document.") % {
            "field": self.label,
            "size": size_text(self.max_bytes),
        }


def size_text(size: int) -> str:
    """A file size as people read it: "820 KB", "4.5 MB", in the active language's digits."""
    if size >= 1024 * 1024:
        megabytes = size / (1024 * 1024)
        number = f"{megabytes:.0f}" if megabytes == int(megabytes) or megabytes >= 100 else f"{megabytes:.1f}"
        return _("%(size)s MB") % {"size": localize_digits(number, number=True)}
    kilobytes = max(1, round(size / 1024))
    return _("%(size)s KB") % {"size": localize_digits(kilobytes)}


class KeptFiles(Protocol):
    """Where the form keeps the files already checked and stored: {slot name: record}."""

    def all(self) -> dict[str, dict]: ...

    def keep(self, name: str, record: dict) -> None: ...

    def forget(self, name: str) -> None: ...

    def rename(self, names: dict[str, str]) -> None:
        """Keep the files of `names`' keys under the new names, all at once."""
        ...


def files_renamed(files: dict[str, dict], names: dict[str, str]) -> None:
    """Rename the kept files in `files` by `names` (old name: new name), in place: what the
    KeptFiles' rename does to their dict."""
    moved = {names.get(name, name): record for name, record in files.items()}
    files.clear()
    files.update(moved)


# --- the slots of a form --------------------------------------------------------------------------


def _slot(
    definition: Definition, document: Document, *, name, label, help, field, required, rows=()
) -> UploadSlot:
    rules = definition_document_rules(definition, document.id)
    return UploadSlot(
        name=name,
        label=label,
        help=help,
        document=document,
        field=field,
        formats=tuple(code for code in rules.formats if code in FORMATS),
        max_bytes=rules.max_bytes,
        required=required,
        rows=rows,
    )


def upload_slots(definition: Definition, *, language: str) -> list[UploadSlot]:
    """The form's upload controls in page order: file fields first (in the order of the form), then
    the first step's documents that no file field uploads. A file field inside a repeated group
    gets one slot for all its rows (see slot_named); one whose `document:` is missing gets no slot
    (its document is uploaded on the case page)."""
    documents = {d.id: d for d in definition.documents}
    slots: list[UploadSlot] = []
    covered: set[str] = set()

    def walk(fields: list[Field], prefix: str, rows: tuple[int, ...] = ()) -> None:
        for f in fields:
            if f.type == "group" and f.repeatable:
                walk(f.fields, f"{prefix}{f.id}[].", (*rows, min(f.repeat_max or ROW_LIMIT, ROW_LIMIT)))
            elif f.type == "group":
                walk(f.fields, prefix + f.id + ".", rows)
            elif f.type == "file" and f.document in documents:
                covered.add(f.document)
                slots.append(
                    _slot(
                        definition,
                        documents[f.document],
                        name=prefix + f.id,
                        label=f.label.get(language),
                        help=f.help.get(language) if f.help else "",
                        field=f,
                        required=f.required,
                        rows=rows,
                    )
                )

    walk(definition.fields, "")
    for document in definition.documents:
        if document.step == definition.start and document.id not in covered:
            slots.append(
                _slot(
                    definition,
                    document,
                    name=DOCUMENT_PREFIX + document.id,
                    label=document.title.get(language),
                    help="",
                    field=None,
                    required=document.required,
                )
            )
    return slots


def slot_named(slots: list[UploadSlot], name: str) -> UploadSlot | None:
    """The slot a name of the form fills, or None: a slot's own name, or one row's name of a file
    field inside a repeated group (`owners[2].id_card` for the slot `owners[].id_card`), when the
    row is within the group's `repeat.max` (and ROW_LIMIT)."""
    family = ROW_NUMBER.sub("[]", name)
    for slot in slots:
        if slot.name == family and not slot.rows:
            return slot
        if slot.name == family and family != name:
            numbers = [int(number) for number in ROW_NUMBER.findall(name)]
            if len(numbers) == len(slot.rows) and all(
                n < most for n, most in zip(numbers, slot.rows, strict=True)
            ):
                return dataclasses.replace(slot, name=name)
    return None


def _refused(slot: UploadSlot, code: str, message: str, status: int) -> DocumentRejected:
    """A refusal that names its field: "Scan of the title deed: The file is empty.", under the
    slot's name in field_errors."""
    named = f"{slot.title}: {message}"
    return DocumentRejected(code, named, status=status, field_errors={slot.name: [named]})


# --- receiving files ------------------------------------------------------------------------------


def upload_keep(*, slot: UploadSlot, upload, by) -> dict:
    """Check `upload` against the slot's document rules (cases.files.file_check: content, size,
    format) and store it; return the record to keep, {"sha256", "name", "size", "format"}. `by` is
    the person uploading: at most UPLOADS_PER_HOUR files each (429 `too_many` beyond).

    Raises DocumentRejected, nothing stored, with the check's message prefixed by the slot's label
    ("Scan of the title deed: The file is empty.")."""
    if not rate_limit_hit(
        key=f"form-upload:user:{by.pk}", limit=UPLOADS_PER_HOUR, window=dt.timedelta(hours=1)
    ):
        raise _refused(
            slot, "too_many", _("too many files were sent in the last hour; try again later."), 429
        )
    try:
        checked = file_check(upload=upload, allowed_formats=list(slot.formats), max_bytes=slot.max_bytes)
    except DocumentRejected as refused:
        raise _refused(slot, refused.code, refused.message, refused.status) from None
    with checked:
        stored = file_store(checked=checked)
        return {
            "sha256": stored.sha256,
            "name": checked.original_name or f"{slot.document.id}.{checked.format}",
            "size": checked.size,
            "format": checked.format,
        }


def uploads_receive(
    *, slots: list[UploadSlot], files, kept: KeptFiles, by
) -> tuple[dict[str, list[str]], int]:
    """Check and keep every file of a multipart POST (`files`: request.FILES) that fills a slot
    (slot_named); a refused file leaves what was kept for its slot before. Returns (errors by slot
    name, the HTTP status the refusals call for: the highest of theirs, e.g. 413 for a file too
    large; 200 when none)."""
    errors: dict[str, list[str]] = {}
    status = 200
    for name in files:
        slot = slot_named(slots, name)
        upload = files.get(name)
        if slot is None or upload is None:
            continue
        try:
            kept.keep(slot.name, upload_keep(slot=slot, upload=upload, by=by))
        except DocumentRejected as refused:
            errors[slot.name] = [refused.message]
            status = max(status, refused.status if refused.status >= 400 else 400)
    return errors, status


def kept_in_form(slots: list[UploadSlot], kept: dict[str, dict]) -> dict[str, dict]:
    """The kept records of the form's slots, in the form's order (a repeated group's rows in
    theirs); records for slots the current definition no longer has, or malformed, are left out."""
    order = {slot.name: index for index, slot in enumerate(slots)}
    found = {
        name: record
        for name, record in kept.items()
        if isinstance(record, dict) and isinstance(record.get("sha256"), str) and slot_named(slots, name)
    }

    def place(name: str) -> tuple:
        return order[ROW_NUMBER.sub("[]", name)], [int(number) for number in ROW_NUMBER.findall(name)]

    return {name: found[name] for name in sorted(found, key=place)}


def kept_for_page(slots: list[UploadSlot], kept: dict[str, dict]) -> dict[str, dict]:
    """The kept records the page shows (kept_in_form), each with its size as text."""
    return {
        name: {**record, "size_text": size_text(int(record.get("size") or 0))}
        for name, record in kept_in_form(slots, kept).items()
    }


# --- filing ---------------------------------------------------------------------------------------


def answer_at(answers: dict, name: str):
    """The answer at a form name of the nested answers (`deed_scan`, `site.photo`,
    `owners[1].id_card`), or None."""
    level = answers
    for part in re.split(r"\.|(?=\[)", name):
        number = ROW_NUMBER.fullmatch(part)
        if number is not None:
            index = int(number[1])
            level = level[index] if isinstance(level, list) and index < len(level) else None
        elif isinstance(level, dict):
            level = level.get(part)
        else:
            return None
    return level


def documents_attach(
    *, case: Case, definition: Definition, slots: list[UploadSlot], kept: dict[str, dict], by
) -> list[CaseDocument]:
    """Upload every kept file to the newly filed `case` as its slot's document, on the first step,
    in the form's order: each row's file of a repeated group its own document. A file the answers
    do not name (a field the validator dropped, hidden by its condition) is not attached. A
    document already on the case with the same content (the same form sent twice, or one file
    chosen for two rows) is not attached again.

    Raises DocumentRejected when a kept file is gone from storage or no longer passes the checks
    (its field_errors name the slot, the message names the field); the caller's transaction then
    undoes the filing."""
    attached = []
    for name, record in kept_in_form(slots, kept).items():
        slot = slot_named(slots, name)
        if slot.field is not None and answer_at(case.answers, name) != record["sha256"]:
            continue
        if CaseDocument.objects.filter(
            case=case, document_type=slot.document.id, file__sha256=record["sha256"]
        ).exists():
            continue
        stored = StoredFile.objects.filter(sha256=record["sha256"]).first()
        gone = _refused(slot, "gone", _("the kept file is no longer available; upload it again."), 400)
        if stored is None:
            raise gone
        try:
            content = file_open(stored)
        except OSError:
            raise gone from None
        with content:
            try:
                document = document_upload(
                    case=case,
                    document_type=slot.document.id,
                    upload=File(content, name=str(record.get("name") or "")),
                    by=by,
                    step_id=definition.start,
                )
            except DocumentRejected as refused:
                raise _refused(slot, refused.code, refused.message, refused.status) from None
        attached.append(document)
    return attached


def uploads_purge(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Forget what application forms kept and never filed: the drafts untouched for
    settings.DRAFT_KEEP_DAYS, then every stored file nothing uses any more — no case or issued
    document, no remaining draft — last sent more than a day ago (and more than a session's life:
    the office counter keeps its files in the operator's session). Returns the counts."""
    from .models import ApplicationDraft

    now = now or timezone.now()
    drafts, _by_model = ApplicationDraft.objects.filter(
        updated_at__lt=now - dt.timedelta(days=settings.DRAFT_KEEP_DAYS)
    ).delete()
    kept: set[str] = set()
    for data in ApplicationDraft.objects.values_list("data", flat=True).iterator():
        files = data.get("files") if isinstance(data, dict) else None
        for record in files.values() if isinstance(files, dict) else ():
            if isinstance(record, dict) and isinstance(record.get("sha256"), str):
                kept.add(record["sha256"])
    grace = max(dt.timedelta(days=1), dt.timedelta(seconds=settings.SESSION_COOKIE_AGE))
    files = files_unused_purge(older_than=now - grace, keep=kept)
    return {"drafts": drafts, "files": files}
