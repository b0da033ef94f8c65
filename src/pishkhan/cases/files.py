"""Uploaded files: checked by their content, stored once by their SHA-256.

    sniff(content_head) -> str
    file_check(*, upload, allowed_formats, max_bytes) -> CheckedFile      raises DocumentRejected
    file_store(*, checked) -> StoredFile
    file_open(stored) -> File
    checked_from_bytes(*, content, format, name) -> CheckedFile            (our own PDFs)

What a document may be is decided by its bytes, never by its name or the browser's content type:
our own signature table names the format, libmagic gives a second opinion, and a small parser per
format reads just enough structure to refuse what could hurt a clerk who opens the file (a script,
a second file hidden behind the first, a bomb). Nothing is stored until every check has passed.

Blobs live in Django's default storage (`settings.STORAGES`: the file system by default, any
S3-compatible store in production) under `blobs/ab/cd/<sha256>`: no extension and no original name,
so a storage URL says nothing and serves nothing useful; files are only ever streamed by the views
after a permission check.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import mmap
import os
import re
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import IO

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pishkhan.core.text import localize_digits

from .errors import CaseError
from .models import StoredFile

# The formats a process definition may allow (docs/process-format.md), with the content type we
# serve each under and the file-name extensions that may carry it.
FORMATS = {
    "pdf": ("application/pdf", ("pdf",)),
    "jpg": ("image/jpeg", ("jpg", "jpeg", "jpe", "jfif")),
    "png": ("image/png", ("png",)),
    "tiff": ("image/tiff", ("tif", "tiff")),
    "dwg": ("image/vnd.dwg", ("dwg",)),
    "zip": ("application/zip", ("zip",)),
}
# What people call each format in a message ("only PDF or JPEG files are accepted").
FORMAT_LABELS = {"pdf": "PDF", "jpg": "JPEG", "png": "PNG", "tiff": "TIFF", "dwg": "DWG", "zip": "ZIP"}
# What a sniffed kind is, in a sentence ("This file is a ZIP archive").
KIND_NAMES = {
    "pdf": gettext_lazy("a PDF document"),
    "jpg": gettext_lazy("a JPEG image"),
    "png": gettext_lazy("a PNG image"),
    "tiff": gettext_lazy("a TIFF image"),
    "dwg": gettext_lazy("a DWG drawing"),
    "zip": gettext_lazy("a ZIP archive"),
    "svg": gettext_lazy("an SVG image"),
    "html": gettext_lazy("a web page (HTML)"),
    "xml": gettext_lazy("an XML file"),
    "exe": gettext_lazy("a program"),
}

CHUNK_BYTES = 64 * 1024
HEAD_BYTES = 8 * 1024
# Scanners and photo apps never need more; Pillow warns at about 89 million pixels for the same
# reason: a small compressed file that declares a huge image exhausts the memory of whoever opens it.
MAX_IMAGE_PIXELS = 90_000_000
MAX_IMAGE_SIDE = 30_000
# An archive of a case's drawings or photos: a few hundred files at most.
MAX_ZIP_ENTRIES = 1_000
MAX_ZIP_TOTAL_BYTES = 512 * 1024 * 1024
# Drawings and scans compress at most a few times; text and zeros compress far better, so small
# entries are left alone and only a large entry squeezed more than this is a bomb.
MAX_ZIP_RATIO = 100
ZIP_RATIO_FLOOR_BYTES = 1024 * 1024
# Compressed PDF object streams are decompressed to look for scripts inside them, within a budget.
MAX_PDF_OBJECT_STREAM_BYTES = 16 * 1024 * 1024
MAX_PDF_INFLATED_BYTES = 64 * 1024 * 1024
# Trailing bytes a writer may leave after the end of a file: line ends, spaces, NUL padding.
PADDING = b" \t\r\n\x00\x0c"

# HTML that a browser would run if the file were ever served as a page. Searched in the first KB
# of every file and the whole of images; each marker is long enough that compressed image data
# does not produce it by chance.
MARKUP_MARKERS = re.compile(
    rb"<(?:script|html|body|iframe|object|embed|svg[\s>/]|!doctype\s+html|\?php|meta\s+http-equiv)",
    re.IGNORECASE,
)
# Archive and executable signatures: another file riding inside the one we were given.
HIDDEN_SIGNATURES = (
    (b"PK\x03\x04", gettext_lazy("a ZIP archive")),
    (b"PK\x05\x06", gettext_lazy("a ZIP archive")),
    (b"%PDF-", gettext_lazy("a PDF document")),
    (b"Rar!\x1a\x07", gettext_lazy("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", gettext_lazy("a 7-Zip archive")),
    (b"MZ", gettext_lazy("a program")),
)
NESTED_ARCHIVE_EXTENSIONS = (
    ".zip", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".cab", ".jar", ".apk", ".iso",
)  # fmt: skip
NESTED_ARCHIVE_SIGNATURES = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"Rar!",
    b"7z\xbc\xaf",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ",
)
# PDF names that run something when the file is opened, and how we explain each.
PDF_ACTIVE_NAMES = {
    b"JS": gettext_lazy("JavaScript"),
    b"JavaScript": gettext_lazy("JavaScript"),
    b"Launch": gettext_lazy("an action that starts a program"),
    b"EmbeddedFile": gettext_lazy("embedded files"),
    b"EmbeddedFiles": gettext_lazy("embedded files"),
    b"XFA": gettext_lazy("an XFA form (which can carry scripts)"),
    b"RichMedia": gettext_lazy("embedded media (Flash)"),
}
PDF_NAME = re.compile(rb"/((?:[A-Za-z]|#[0-9A-Fa-f]{2}){2,24})(?=[\s()<>\[\]{}/%]|\Z)")
PDF_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
PDF_STREAM_START = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
# The standard filters and their abbreviations (PDF 32000-1, 7.4 and 8.9.7).
PDF_FILTERS = {
    b"FlateDecode", b"Fl", b"ASCIIHexDecode", b"AHx", b"ASCII85Decode", b"A85", b"LZWDecode", b"LZW",
    b"RunLengthDecode", b"RL", b"CCITTFaxDecode", b"CCF", b"DCTDecode", b"DCT", b"JBIG2Decode",
    b"JPXDecode", b"Crypt",
}  # fmt: skip
# libmagic's names for our formats. "application/octet-stream" (libmagic does not know) is not a
# disagreement: our own parsers below then decide. Any other answer is.
MAGIC_AGREES = {
    "pdf": {"application/pdf"},
    "jpg": {"image/jpeg"},
    "png": {"image/png"},
    "tiff": {"image/tiff"},
    "dwg": {"image/vnd.dwg", "application/acad", "image/x-dwg"},
    "zip": {"application/zip", "application/x-zip-compressed"},
}
MAGIC_UNKNOWN = {"application/octet-stream", "application/x-empty"}


class DocumentRejected(CaseError):
    """An upload refused, nothing stored: a CaseError whose `code` names the problem (`empty`,
    `too_large`, `type_not_allowed`, `unknown_type`, `svg`, `markup`, `extension_mismatch`,
    `unrecognised`, `polyglot`, `zip_bomb`, `nested_archive`, `encrypted`, `unsafe_archive`,
    `active_content`, `uncheckable`, `image_too_large`, `damaged`; from documents.py also
    `unknown_document`, `closed`, `forbidden`) and whose translated `message` says what to do."""


@dataclass
class CheckedFile:
    """A file that passed `file_check`: its format, size and SHA-256, and its bytes in a private
    temporary file until `file_store` copies them to storage. Close it (or use `with`) when done."""

    sha256: str
    size: int
    format: str
    content_type: str
    original_name: str
    content: IO[bytes] = field(repr=False)

    def close(self) -> None:
        self.content.close()

    def __enter__(self) -> CheckedFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# --- Sniffing ---------------------------------------------------------------------------------


def _markup_kind(head: bytes) -> str:
    """'svg', 'html' or 'xml' when the head is markup (after a BOM and white space), else ''."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head[2:].decode("utf-16-le" if head[:2] == b"\xff\xfe" else "utf-16-be", "ignore").encode()
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if not text.startswith(b"<"):
        return ""
    if b"<svg" in text[:4096] or text.startswith(b"<!doctype svg"):
        return "svg"
    if text.startswith((b"<?xml", b"<!doctype")) and not text.startswith(b"<!doctype html"):
        return "xml"
    return "html"


def sniff(content_head: bytes) -> str:
    """Name the format of a file from its first bytes (a few KB is plenty).

    Returns one of our formats (`pdf`, `jpg`, `png`, `tiff`, `dwg`, `zip`), a kind we always refuse
    but can name in a message (`svg`, `html`, `xml`, `exe`), or "" when we do not recognise it.
    Our own table, not libmagic: it is small, exact and the same on every machine."""
    head = content_head
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if re.match(rb"AC10\d\d", head):
        return "dwg"
    if head.startswith((b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"#!")):
        return "exe"
    return _markup_kind(head[:HEAD_BYTES])


def _magic_opinion(head: bytes) -> str:
    import magic  # python-magic over libmagic; imported here so importing this module stays cheap

    return magic.from_buffer(head, mime=True)


# --- Messages ---------------------------------------------------------------------------------


def _allowed_text(formats) -> str:
    return get_text_list([FORMAT_LABELS.get(f, f.upper()) for f in formats], _("or"))


def _mb(limit_bytes: int) -> str:
    megabytes = limit_bytes / (1024 * 1024)
    text = f"{megabytes:.0f}" if megabytes >= 1 and megabytes == int(megabytes) else f"{megabytes:.1f}"
    return localize_digits(text)


def _reject_kind(kind: str, allowed: list[str]) -> DocumentRejected:
    """The refusal for a file whose kind is not one we take here."""
    allowed_text = _allowed_text(allowed)
    if kind == "svg":
        return DocumentRejected(
            "svg",
            _(
                "SVG images are never accepted, because they can carry scripts. "
                "Upload the image as %(allowed)s instead."
            )
            % {"allowed": allowed_text},
        )
    if kind in ("html", "xml"):
        return DocumentRejected(
            "markup",
            _(
                "This file is %(kind)s, not a document. Web pages and XML files are not accepted, "
                "because they can carry scripts; only %(allowed)s files are."
            )
            % {"kind": KIND_NAMES[kind], "allowed": allowed_text},
        )
    if not kind:
        return DocumentRejected(
            "unknown_type",
            _("The type of this file could not be recognised; only %(allowed)s files are accepted here.")
            % {"allowed": allowed_text},
        )
    return DocumentRejected(
        "type_not_allowed",
        _("This file is %(kind)s; only %(allowed)s files are accepted for this document.")
        % {"kind": KIND_NAMES[kind], "allowed": allowed_text},
    )


def _polyglot(kind: str, hidden) -> DocumentRejected:
    return DocumentRejected(
        "polyglot",
        _(
            "This file is %(kind)s with %(hidden)s hidden in it, so it could be opened as two different "
            "files. Such files are refused: save or scan the document again and upload that."
        )
        % {"kind": KIND_NAMES[kind], "hidden": hidden},
    )


def _damaged(kind: str) -> DocumentRejected:
    return DocumentRejected(
        "damaged",
        _("This file could not be read as %(kind)s; it may be damaged. Save or scan it again.")
        % {"kind": KIND_NAMES[kind]},
    )


def _bomb(detail: str) -> DocumentRejected:
    return DocumentRejected(
        "zip_bomb",
        _("The archive unpacks to far more than it holds (%(detail)s); it is refused as a possible zip bomb.")
        % {"detail": detail},
    )


# --- Checks common to every format ------------------------------------------------------------


def _extension(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    return base.rsplit(".", 1)[1].lower() if "." in base.strip(".") else ""


def _check_hidden_markup(data, kind: str, *, whole: bool) -> None:
    """Refuse HTML or script in the first KB (where browsers look when they guess a type) or, for
    images, anywhere."""
    window = data if whole else data[:1024]
    if MARKUP_MARKERS.search(window):
        raise _polyglot(kind, _("HTML or a script"))


def _check_other_signatures_in_head(data, kind: str) -> None:
    """Refuse a second format's signature in the first KB: Acrobat, for one, opens a PDF whose
    header is anywhere in the first 1024 bytes, so a ZIP or image with `%PDF-` there is both."""
    head = data[:1024]
    for signature, hidden in HIDDEN_SIGNATURES:
        if signature == b"MZ":
            continue  # two bytes: too short to mean anything inside another file
        if head.find(signature, 1) > 0:
            raise _polyglot(kind, hidden)


def _check_zip_directory_at_end(data, kind: str) -> None:
    """A ZIP reader finds an archive by the end-of-directory record in the last 64 KB, whatever
    comes before it: any other format carrying one there is also a ZIP archive."""
    tail_start = max(0, len(data) - (65_535 + 22))
    if data.rfind(b"PK\x05\x06", tail_start) != -1:
        raise _polyglot(kind, KIND_NAMES["zip"])


def _check_trailer(data, end: int, kind: str) -> None:
    """Refuse anything but padding after the format's own end marker (at offset `end`)."""
    trailer = bytes(data[end:]).strip(PADDING)
    if not trailer:
        return
    if MARKUP_MARKERS.search(trailer[:65536]):
        raise _polyglot(kind, _("HTML or a script"))
    for signature, hidden in HIDDEN_SIGNATURES:
        if trailer.startswith(signature) or (signature != b"MZ" and signature in trailer[:65536]):
            raise _polyglot(kind, hidden)
    raise _polyglot(kind, _("data after its end"))


def _check_dimensions(width: int, height: int, kind: str) -> None:
    if width <= 0 or height <= 0:
        raise _damaged(kind)
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE or width * height > MAX_IMAGE_PIXELS:
        raise DocumentRejected(
            "image_too_large",
            _(
                "The image says it is %(width)s × %(height)s pixels, far more than a scanned document "
                "needs; it is refused as a possible decompression bomb. Scan at a lower resolution."
            )
            % {"width": localize_digits(width), "height": localize_digits(height)},
        )


# --- Per-format structure ---------------------------------------------------------------------


def _check_png(data) -> None:
    """Walk the chunks: IHDR first (its size checked), IEND last, nothing after it."""
    size = len(data)
    position = 8
    first = True
    while True:
        if position + 12 > size:
            raise _damaged("png")
        length, chunk_type = struct.unpack(">I4s", data[position : position + 8])
        end = position + 12 + length
        if end > size:
            raise _damaged("png")
        if first:
            if chunk_type != b"IHDR" or length != 13:
                raise _damaged("png")
            width, height = struct.unpack(">II", data[position + 8 : position + 16])
            _check_dimensions(width, height, "png")
            first = False
        if chunk_type == b"IEND":
            _check_trailer(data, end, "png")
            return
        position = end


# JPEG markers without a length field: TEM, RST0-7, SOI, EOI.
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xDA)}
# Start-of-frame markers, which carry the image size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames.
_JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _check_jpeg(data) -> None:
    """Walk the segments up to the first scan, read the frame size, find the end-of-image marker
    (FF D9 cannot occur inside entropy-coded data, where FF bytes are stuffed) and refuse anything
    after it."""
    size = len(data)
    position = 2
    frame_seen = False
    while True:
        if position + 4 > size or data[position] != 0xFF:
            raise _damaged("jpg")
        while position < size and data[position] == 0xFF:  # fill bytes before a marker
            position += 1
        if position >= size:
            raise _damaged("jpg")
        marker = data[position]
        position += 1
        if marker in _JPEG_STANDALONE:
            if marker == 0xD9:
                raise _damaged("jpg")  # an end before any image
            continue
        if position + 2 > size:
            raise _damaged("jpg")
        (length,) = struct.unpack(">H", data[position : position + 2])
        if length < 2 or position + length > size:
            raise _damaged("jpg")
        if marker in _JPEG_FRAMES:
            if length < 7:
                raise _damaged("jpg")
            height, width = struct.unpack(">HH", data[position + 3 : position + 7])
            _check_dimensions(width, height, "jpg")
            frame_seen = True
        position += length
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
    if not frame_seen:
        raise _damaged("jpg")
    end = data.find(b"\xff\xd9", position)
    if end == -1:
        raise _damaged("jpg")
    _check_trailer(data, end + 2, "jpg")


def _check_tiff(data) -> None:
    """Read every image directory's width and height (tags 256 and 257)."""
    little = data[:2] == b"II"
    order = "<" if little else ">"
    size = len(data)
    (offset,) = struct.unpack(order + "I", data[4:8])
    seen = set()
    found = False
    while offset:
        if offset in seen or offset + 2 > size or len(seen) > 1000:
            raise _damaged("tiff")
        seen.add(offset)
        (count,) = struct.unpack(order + "H", data[offset : offset + 2])
        entries_end = offset + 2 + count * 12
        if entries_end + 4 > size:
            raise _damaged("tiff")
        dimensions = {}
        for index in range(count):
            entry = offset + 2 + index * 12
            tag, value_type = struct.unpack(order + "HH", data[entry : entry + 4])
            if tag in (256, 257):
                if value_type == 3:  # SHORT, left-justified in the value field
                    (value,) = struct.unpack(order + "H", data[entry + 8 : entry + 10])
                else:
                    (value,) = struct.unpack(order + "I", data[entry + 8 : entry + 12])
                dimensions[tag] = value
        if 256 not in dimensions or 257 not in dimensions:
            raise _damaged("tiff")
        _check_dimensions(dimensions[256], dimensions[257], "tiff")
        found = True
        (offset,) = struct.unpack(order + "I", data[entries_end : entries_end + 4])
    if not found:
        raise _damaged("tiff")


def _pdf_names(blob) -> set[bytes]:
    """Every PDF name in `blob`, with #xx escapes decoded (`/J#61vaScript` is `/JavaScript`)."""
    names = set()
    for match in PDF_NAME.finditer(blob):
        name = match.group(1)
        if b"#" in name:
            name = PDF_HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)
        names.add(name)
    return names


def _refuse_active(names: set[bytes]) -> None:
    found = [PDF_ACTIVE_NAMES[name] for name in PDF_ACTIVE_NAMES if name in names]
    if found:
        # One reason is enough and JavaScript (the most common) comes first in the table.
        raise DocumentRejected(
            "active_content",
            _(
                "The PDF contains %(what)s, which could run when it is opened; such PDFs are refused. "
                "Print it to a new PDF (or scan the paper) and upload that."
            )
            % {"what": found[0]},
        )


def _inflate(raw, budget: int) -> bytes | None:
    """Decompress a Flate stream, fed in chunks so what decoded before an error is kept (viewers are
    just as lenient). None when it grows beyond `budget`."""
    inflater = zlib.decompressobj()
    out = bytearray()
    for start in range(0, len(raw), CHUNK_BYTES):
        try:
            out += inflater.decompress(raw[start : start + CHUNK_BYTES], budget + 1 - len(out))
        except zlib.error:
            break
        if len(out) > budget or inflater.unconsumed_tail:
            return None
    return bytes(out)


def _uncheckable() -> DocumentRejected:
    return DocumentRejected(
        "uncheckable",
        _(
            "Part of this PDF is packed in a way that cannot be checked for scripts. "
            "Print it to a new PDF (or scan the paper) and upload that."
        ),
    )


def _check_pdf(data) -> None:
    """Nothing after the last %%EOF but padding; no names that run code, looked for in the file and
    inside compressed object streams (PDF 1.5 packs dictionaries there, out of sight of a plain
    search)."""
    end = data.rfind(b"%%EOF")
    if end == -1:
        raise _damaged("pdf")
    _check_trailer(data, end + 5, "pdf")
    names = _pdf_names(data)
    _refuse_active(names)
    if b"ObjStm" not in names:
        return
    # In an encrypted PDF the object streams are encrypted too, so they cannot be read for scripts.
    encrypted = b"Encrypt" in names
    inflated_total = 0
    for stream in PDF_STREAM_START.finditer(data):
        # The stream's dictionary runs from its `obj` keyword to `stream`; its names (escapes
        # decoded, since `/Obj#53tm` is `/ObjStm` to a viewer) say what it is and how it is packed.
        dictionary_start = data.rfind(b"obj", max(0, stream.start() - 4096), stream.start())
        if dictionary_start == -1:
            continue
        dictionary = _pdf_names(data[dictionary_start : stream.start()])
        if b"ObjStm" not in dictionary:
            continue
        stream_end = data.find(b"endstream", stream.end())
        if stream_end == -1:
            raise _damaged("pdf")
        filters = dictionary & PDF_FILTERS
        # Only plain Flate can be read here; a predictor (DecodeParms) or any other filter scrambles
        # the bytes a search would look at.
        if encrypted or filters - {b"FlateDecode", b"Fl"} or dictionary & {b"DecodeParms", b"DP"}:
            raise _uncheckable()
        if not filters:
            continue  # not compressed: the plain search above has read it
        budget = min(MAX_PDF_OBJECT_STREAM_BYTES, MAX_PDF_INFLATED_BYTES - inflated_total)
        inflated = _inflate(data[stream.end() : stream_end], budget)
        if inflated is None:
            raise DocumentRejected(
                "zip_bomb",
                _(
                    "The PDF unpacks to far more than it holds; it is refused as a possible decompression bomb."
                ),
            )
        inflated_total += len(inflated)
        _refuse_active(_pdf_names(inflated))


def _check_zip(content: IO[bytes], data) -> None:
    """Read the central directory, never the content: entry count, declared sizes and ratios,
    entries that overlap (one compressed block counted many times, the "better zip bomb"), nested
    archives, passwords and unsafe paths."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - (65_535 + 22)))
    if eocd == -1 or eocd + 22 > len(data):
        raise _damaged("zip")
    (entries,) = struct.unpack("<H", data[eocd + 10 : eocd + 12])
    if entries == 0xFFFF or data.rfind(b"PK\x06\x06", max(0, eocd - 4096), eocd) != -1:
        # ZIP64 exists for archives of more than 65,535 files or 4 GB: never a case document.
        raise _bomb(_("more than %(count)s files") % {"count": localize_digits(MAX_ZIP_ENTRIES)})
    if entries > MAX_ZIP_ENTRIES:
        raise _bomb(_("more than %(count)s files") % {"count": localize_digits(MAX_ZIP_ENTRIES)})
    if entries == 0:
        raise DocumentRejected("empty", _("The archive is empty."))
    content.seek(0)
    try:
        archive = zipfile.ZipFile(content)
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise _damaged("zip") from error
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_ENTRIES:
            raise _bomb(_("more than %(count)s files") % {"count": localize_digits(MAX_ZIP_ENTRIES)})
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise DocumentRejected(
                    "encrypted",
                    _(
                        "The archive is protected by a password, so its content cannot be checked; "
                        "upload it without a password."
                    ),
                )
            name = info.filename.replace("\\", "/")
            if name.startswith("/") or ".." in name.split("/") or re.match(r"[A-Za-z]:", name):
                raise DocumentRejected(
                    "unsafe_archive",
                    _("The archive has a file named %(name)s, which points outside the archive.")
                    % {"name": info.filename[:80]},
                )
            total += info.file_size
            if info.file_size > ZIP_RATIO_FLOOR_BYTES and info.file_size > MAX_ZIP_RATIO * max(
                info.compress_size, 1
            ):
                raise _bomb(
                    _("a file in it is compressed more than %(ratio)s times")
                    % {"ratio": localize_digits(MAX_ZIP_RATIO)}
                )
        if total > MAX_ZIP_TOTAL_BYTES:
            raise _bomb(
                _("more than %(size)s MB in all") % {"size": localize_digits(MAX_ZIP_TOTAL_BYTES // 2**20)}
            )
        spans = sorted((info.header_offset, info.compress_size) for info in infos)
        directory_start = archive.start_dir
        for (offset, length), (next_offset, _length) in zip(
            spans, [*spans[1:], (directory_start, 0)], strict=True
        ):
            if offset + 30 + length > next_offset:
                raise _bomb(_("its files overlap one another"))
        for info in infos:
            if info.is_dir():
                continue
            try:
                with archive.open(info) as member:
                    first = member.read(8)
            except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError, OSError) as error:
                raise _damaged("zip") from error
            if info.filename.lower().endswith(NESTED_ARCHIVE_EXTENSIONS) or first.startswith(
                NESTED_ARCHIVE_SIGNATURES
            ):
                raise DocumentRejected(
                    "nested_archive",
                    _(
                        "The archive contains another archive (%(name)s). Unpack it and put its files "
                        "directly into one ZIP archive."
                    )
                    % {"name": info.filename[:80]},
                )


def _check_structure(kind: str, content: IO[bytes], data) -> None:
    try:
        _check_format(kind, content, data)
    except (struct.error, IndexError, ValueError) as error:
        # A length or offset that points past the end: the file is cut short or made up.
        raise _damaged(kind) from error


def _check_format(kind: str, content: IO[bytes], data) -> None:
    if kind == "zip":
        _check_zip(content, data)
        return
    _check_other_signatures_in_head(data, kind)
    _check_hidden_markup(data, kind, whole=kind in ("png", "jpg", "tiff"))
    _check_zip_directory_at_end(data, kind)
    if kind == "pdf":
        _check_pdf(data)
    elif kind == "png":
        _check_png(data)
    elif kind == "jpg":
        _check_jpeg(data)
    elif kind == "tiff":
        _check_tiff(data)


# --- The public functions ---------------------------------------------------------------------


def _spool(upload, max_bytes: int) -> tuple[IO[bytes], int, str]:
    """Copy the upload into a private temporary file in chunks, hashing as it goes; stop reading one
    byte past the limit. Returns the file, its size and its SHA-256."""
    if hasattr(upload, "seek"):
        with contextlib.suppress(OSError, ValueError):  # a stream that cannot rewind starts at 0
            upload.seek(0)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 — handed to the caller, who closes it
    digest = hashlib.sha256()
    size = 0
    try:
        while size <= max_bytes:
            chunk = upload.read(min(CHUNK_BYTES, max_bytes + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            digest.update(chunk)
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool, size, digest.hexdigest()


def file_check(*, upload, allowed_formats: list[str], max_bytes: int) -> CheckedFile:
    """Check an upload by its content and return it as a CheckedFile (not stored yet).

    `upload` is a Django UploadedFile or any binary file object with `read()` (and a `name`);
    `allowed_formats` are format codes of FORMATS; `max_bytes` the largest size accepted.

    Raises DocumentRejected, having kept nothing, for: an empty file; one larger than `max_bytes`
    (the message says the limit in MB); a kind not allowed (the message says which are); SVG (never
    accepted), HTML or XML; a name whose extension says another format than the content; content
    libmagic reads as another type; a polyglot (a second file, HTML or script hidden in it or after
    its end); a zip bomb, nested archive, password-protected or unsafe archive; a PDF with
    JavaScript, launch actions, embedded files, XFA or rich media; an image whose declared size is
    absurd; a file too damaged to read. At most `max_bytes + 1` bytes are read, in chunks, into a
    temporary file, never into memory as a whole.
    """
    name = os.path.basename(str(getattr(upload, "name", "") or "").replace("\\", "/"))[:200]
    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        raise _too_large(max_bytes)
    content, size, sha256 = _spool(upload, max_bytes)
    try:
        if size == 0:
            raise DocumentRejected("empty", _("The file is empty."))
        if size > max_bytes:
            raise _too_large(max_bytes)
        head = content.read(HEAD_BYTES)
        kind = sniff(head)
        if kind not in FORMATS or kind not in allowed_formats:
            raise _reject_kind(kind, allowed_formats)
        extension = _extension(name)
        if extension and extension not in FORMATS[kind][1]:
            raise DocumentRejected(
                "extension_mismatch",
                _(
                    "The file's name ends in .%(extension)s but its content is %(kind)s. "
                    "Choose the right file, or rename it if it is the right one."
                )
                % {"extension": extension, "kind": KIND_NAMES[kind]},
            )
        opinion = _magic_opinion(head)
        if opinion not in MAGIC_AGREES[kind] | MAGIC_UNKNOWN:
            raise DocumentRejected(
                "unrecognised",
                _(
                    "This file starts like %(kind)s but reads as another type (%(other)s); "
                    "upload the original document."
                )
                % {"kind": KIND_NAMES[kind], "other": opinion},
            )
        with mmap.mmap(content.fileno(), 0, access=mmap.ACCESS_READ) as data:
            _check_structure(kind, content, data)
    except BaseException:
        content.close()
        raise
    content.seek(0)
    return CheckedFile(
        sha256=sha256,
        size=size,
        format=kind,
        content_type=FORMATS[kind][0],
        original_name=name,
        content=content,
    )


def _too_large(max_bytes: int) -> DocumentRejected:
    return DocumentRejected(
        "too_large",
        _("The file is larger than %(limit)s MB, the limit for this document.") % {"limit": _mb(max_bytes)},
        status=413,
    )


def checked_from_bytes(*, content: bytes, format: str, name: str = "") -> CheckedFile:
    """A CheckedFile for bytes we made ourselves (an issued PDF): hashed, not inspected."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 — closed by the CheckedFile's owner
    spool.write(content)
    spool.seek(0)
    return CheckedFile(
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        format=format,
        content_type=FORMATS[format][0],
        original_name=name,
        content=spool,
    )


def blob_name(sha256: str) -> str:
    """The storage name of the blob with this SHA-256: `blobs/ab/cd/<sha256>`."""
    return f"blobs/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def file_store(*, checked: CheckedFile) -> StoredFile:
    """Store a checked file once: content-addressed by its SHA-256 in the default storage, with one
    StoredFile row per content. Storing the same bytes again returns the existing row and writes
    nothing. A blob left in storage without its row (a transaction rolled back after the write) is
    reused, not duplicated."""
    name = blob_name(checked.sha256)
    stored = StoredFile.objects.filter(sha256=checked.sha256).first()
    if stored is not None and default_storage.exists(stored.storage_name):
        # Sent again: the purge of unused files counts its grace from now (files_unused_purge).
        StoredFile.objects.filter(pk=stored.pk).update(created_at=timezone.now())
        return stored
    if not default_storage.exists(name):
        checked.content.seek(0)
        saved = default_storage.save(name, File(checked.content, name=name))
        if saved != name:
            # A concurrent upload of the same bytes won the race; the storage kept both under two
            # names, and ours is the redundant copy.
            default_storage.delete(saved)
    if stored is None:
        stored, _created = StoredFile.objects.get_or_create(
            sha256=checked.sha256,
            defaults={"size": checked.size, "content_type": checked.content_type, "storage_name": name},
        )
    return stored


def files_unused_purge(*, older_than: dt.datetime, keep: set[str] = frozenset()) -> int:
    """Delete the stored files nothing uses — no case document, no issued document, no SHA-256 in
    `keep` (what forms still hold: drafts, the office counter's session) — last stored before
    `older_than`; return how many. Each row goes in a transaction of its own, checked again under
    its lock; its blob is deleted once that commits. Content sent again later is simply stored
    again."""
    from .models import CaseDocument, IssuedDocument

    used = CaseDocument.objects.values("file_id")
    issued = IssuedDocument.objects.filter(file__isnull=False).values("file_id")
    candidates = (
        StoredFile.objects.filter(created_at__lt=older_than)
        .exclude(pk__in=used)
        .exclude(pk__in=issued)
        .values_list("pk", "sha256")
    )
    removed = 0
    for pk in [pk for pk, sha256 in candidates if sha256 not in keep]:
        with transaction.atomic():
            stored = StoredFile.objects.select_for_update().filter(pk=pk, created_at__lt=older_than).first()
            if stored is None or used.filter(file_id=pk).exists() or issued.filter(file_id=pk).exists():
                continue
            stored.delete()
            transaction.on_commit(lambda name=stored.storage_name: default_storage.delete(name))
        removed += 1
    return removed


def file_open(stored: StoredFile) -> File:
    """The stored file's content, opened for reading (the caller closes it)."""
    return default_storage.open(stored.storage_name, "rb")
