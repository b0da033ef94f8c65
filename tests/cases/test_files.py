"""files.py: the content check every upload passes, and content-addressed storage.

The hostile set: each file is refused with its own code and a message that names the problem; the
good set is accepted and stored once however many times it is uploaded."""

import io
import re
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from pishkhan.cases.files import (
    DocumentRejected,
    blob_name,
    checked_from_bytes,
    file_check,
    file_open,
    file_store,
    sniff,
)
from pishkhan.cases.models import StoredFile
from tests.cases import hostile

ALL_FORMATS = ["pdf", "jpg", "png", "tiff", "dwg", "zip"]
LIMIT = 2 * 1024 * 1024


def upload(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def refused(content: bytes, name: str, *, formats=ALL_FORMATS, max_bytes=LIMIT) -> DocumentRejected:
    with translation.override("en"), pytest.raises(DocumentRejected) as error:
        file_check(upload=upload(content, name), allowed_formats=formats, max_bytes=max_bytes)
    return error.value


# --- sniffing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"%PDF-1.7\n", "pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpg"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"AC1032\x00\x00\x00", "dwg"),
        (b"MZ\x90\x00", "exe"),
        (b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'>", "svg"),
        (b'<?xml version="1.0"?><svg>', "svg"),
        (b'<?xml version="1.0"?><invoice/>', "xml"),
        (b"\n<!DOCTYPE html><html>", "html"),
        (b"<script>alert(1)</script>", "html"),
        (b"\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00", "html"),  # UTF-16
        (b"just some text", ""),
        (b"", ""),
    ],
)
def test_sniff_names_the_format_from_the_first_bytes(head, kind):
    assert sniff(head) == kind


# --- the good set -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "kind", "content_type"),
    [
        (hostile.pdf(), "deed.pdf", "pdf", "application/pdf"),
        (hostile.png(), "photo.png", "png", "image/png"),
        (hostile.jpeg(), "photo.JPG", "jpg", "image/jpeg"),
        (hostile.jpeg(), "photo.jpeg", "jpg", "image/jpeg"),
        (hostile.tiff(), "scan.tif", "tiff", "image/tiff"),
        (
            hostile.zip_of({"plan-1.pdf": hostile.pdf(), "notes.txt": "یادداشت".encode()}),
            "plans.zip",
            "zip",
            "application/zip",
        ),
        (hostile.png(), "no-extension", "png", "image/png"),
    ],
)
def test_good_files_pass_with_the_type_their_content_says(content, name, kind, content_type):
    checked = file_check(upload=upload(content, name), allowed_formats=ALL_FORMATS, max_bytes=LIMIT)
    with checked:
        assert checked.format == kind
        assert checked.content_type == content_type
        assert checked.size == len(content)
        assert checked.original_name == name
        assert checked.content.read() == content


def test_a_file_of_exactly_the_limit_passes_and_one_byte_more_does_not():
    exact = upload(hostile.padded_pdf(LIMIT), "a.pdf")
    with file_check(upload=exact, allowed_formats=["pdf"], max_bytes=LIMIT) as checked:
        assert checked.size == LIMIT
    error = refused(hostile.padded_pdf(LIMIT + 1), "a.pdf", formats=["pdf"])
    assert error.code == "too_large"
    assert "2 MB" in error.message
    assert error.status == 413


def test_the_name_of_a_file_is_reduced_to_its_base_name():
    checked = file_check(
        upload=upload(hostile.png(), "C:\\Users\\x\\..\\photo.png"), allowed_formats=["png"], max_bytes=LIMIT
    )
    assert checked.original_name == "photo.png"
    checked.close()


# --- the hostile set --------------------------------------------------------------------------


def test_an_empty_file_is_refused():
    error = refused(b"", "deed.pdf")
    assert (error.code, error.message) == ("empty", "The file is empty.")


def test_a_zip_or_word_document_is_refused_where_only_pdf_is_allowed():
    error = refused(hostile.docx(), "deed.docx", formats=["pdf"])
    assert error.code == "type_not_allowed"
    assert error.message == "This file is a ZIP archive; only PDF files are accepted for this document."


def test_a_program_renamed_pdf_is_refused_as_a_program():
    error = refused(hostile.exe(), "deed.pdf", formats=["pdf", "jpg"])
    assert error.code == "type_not_allowed"
    assert "a program" in error.message and "PDF or JPEG" in error.message


def test_an_unrecognised_file_says_which_types_are_accepted():
    error = refused(b"Just a letter typed in Notepad.\r\n", "letter.pdf", formats=["pdf", "png"])
    assert error.code == "unknown_type"
    assert "PDF or PNG" in error.message


def test_content_that_does_not_match_the_name_is_refused():
    error = refused(hostile.png(), "photo.jpg", formats=["jpg", "png"])
    assert error.code == "extension_mismatch"
    assert error.message.startswith("The file's name ends in .jpg but its content is a PNG image.")


def test_libmagic_reading_another_type_is_refused():
    # A Word document is a ZIP archive by its first bytes; libmagic knows better.
    error = refused(hostile.docx(), "plans.zip", formats=["zip"])
    assert error.code == "unrecognised"
    assert "wordprocessingml" in error.message


def test_an_svg_with_a_script_is_refused_and_svg_is_never_accepted():
    for name in ("logo.svg", "logo.png"):
        error = refused(hostile.svg_with_script(), name)
        assert error.code == "svg"
        assert error.message.startswith("SVG images are never accepted, because they can carry scripts.")


def test_a_web_page_named_pdf_is_refused():
    error = refused(hostile.html_page(), "deed.pdf", formats=["pdf"])
    assert error.code == "markup"
    assert "a web page (HTML)" in error.message


@pytest.mark.parametrize(
    ("content", "name", "hidden"),
    [
        (hostile.jpeg_with_zip(), "photo.jpg", "a ZIP archive"),
        (hostile.pdf_with_html_appended(), "deed.pdf", "HTML or a script"),
        (hostile.pdf_with_script_in_head(), "deed.pdf", "HTML or a script"),
        (hostile.png_with_html(), "photo.png", "HTML or a script"),
        (hostile.pdf() + hostile.zip_of({"x.txt": b"x"}), "deed.pdf", "a ZIP archive"),
        (hostile.png() + b"trailing bytes that are not padding", "photo.png", "data after its end"),
        (
            hostile.jpeg()[:2] + b"\xff\xfe\x00\x10%PDF-1.4 hidden\x00" + hostile.jpeg()[2:],
            "photo.jpg",
            "a PDF document",
        ),
    ],
    ids=[
        "jpeg+zip",
        "pdf+html",
        "pdf-script-in-head",
        "png-with-html",
        "pdf+zip",
        "png+junk",
        "jpeg-with-pdf-header",
    ],
)
def test_a_polyglot_is_refused(content, name, hidden):
    error = refused(content, name)
    assert error.code == "polyglot"
    assert f"with {hidden} hidden in it" in error.message


def test_a_zip_bomb_is_refused_without_unpacking_it():
    bomb = hostile.zip_bomb(50)
    assert len(bomb) < 200_000  # 50 MB of zeros in a small file
    error = refused(bomb, "plans.zip", formats=["zip"])
    assert error.code == "zip_bomb"
    assert "compressed more than 100 times" in error.message


def test_an_archive_of_too_many_files_is_refused():
    error = refused(hostile.zip_many_entries(1001), "plans.zip", formats=["zip"])
    assert error.code == "zip_bomb"
    assert "more than 1000 files" in error.message


def test_an_archive_whose_entries_share_one_block_is_refused():
    error = refused(hostile.zip_overlapping(), "plans.zip", formats=["zip"])
    assert error.code == "zip_bomb"
    assert "overlap" in error.message


@pytest.mark.parametrize(
    "content", [hostile.zip_nested(), hostile.zip_nested_disguised()], ids=["named", "disguised"]
)
def test_an_archive_inside_an_archive_is_refused(content):
    error = refused(content, "plans.zip", formats=["zip"])
    assert error.code == "nested_archive"


def test_a_password_protected_archive_is_refused():
    assert refused(hostile.zip_encrypted(), "plans.zip", formats=["zip"]).code == "encrypted"


def test_an_archive_with_a_path_out_of_it_is_refused():
    assert refused(hostile.zip_path_traversal(), "plans.zip", formats=["zip"]).code == "unsafe_archive"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (hostile.pdf_with_javascript(), "JavaScript"),
        (hostile.pdf_with_escaped_javascript(), "JavaScript"),
        (hostile.pdf_with_javascript_in_object_stream(), "JavaScript"),
        (hostile.pdf_with_launch(), "an action that starts a program"),
        (hostile.pdf_with_embedded_file(), "embedded files"),
    ],
    ids=["javascript", "escaped-name", "in-object-stream", "launch", "embedded-file"],
)
def test_a_pdf_that_runs_something_is_refused_and_says_what(content, what):
    error = refused(content, "deed.pdf", formats=["pdf"])
    assert error.code == "active_content"
    assert error.message.startswith(f"The PDF contains {what}, which could run when it is opened")


def test_a_pdf_packed_in_a_way_that_cannot_be_searched_is_refused():
    assert (
        refused(hostile.pdf_with_predictor_object_stream(), "deed.pdf", formats=["pdf"]).code == "uncheckable"
    )


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (hostile.png_claiming(100_000, 100_000), "scan.png"),
        (hostile.png_claiming(30_001, 10), "scan.png"),
        (hostile.jpeg_claiming(65_000, 65_000), "scan.jpg"),
    ],
)
def test_an_image_declaring_absurd_dimensions_is_refused(content, name):
    error = refused(content, name)
    assert error.code == "image_too_large"
    assert "decompression bomb" in error.message


def test_an_image_of_ordinary_size_declared_by_its_header_passes():
    checked = file_check(
        upload=upload(hostile.png_claiming(2480, 3508), "a4.png"), allowed_formats=["png"], max_bytes=LIMIT
    )
    checked.close()


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (hostile.png()[:40], "photo.png"),
        (hostile.jpeg()[:100], "photo.jpg"),
        (b"%PDF-1.7\n1 0 obj << >> endobj\n", "deed.pdf"),  # no %%EOF
        (b"II*\x00\xff\xff\xff\x7f", "scan.tif"),
    ],
    ids=["png-cut", "jpeg-cut", "pdf-no-eof", "tiff-bad-offset"],
)
def test_a_damaged_file_is_refused_as_damaged(content, name):
    assert refused(content, name).code == "damaged"


def test_messages_are_translated():
    with translation.override("fa"), pytest.raises(DocumentRejected) as error:
        file_check(upload=upload(b"", "a.pdf"), allowed_formats=["pdf"], max_bytes=LIMIT)
    # The Persian catalogue may not have it yet; the message must at least be the active language's.
    assert error.value.message in ("The file is empty.", "فایل خالی است.", "پرونده خالی است.")


class EndlessUpload(io.RawIOBase):
    """An upload that never ends (a client streaming forever) and counts what was read from it."""

    name = "endless.pdf"

    def __init__(self):
        self.read_total = 0
        self.largest_read = 0

    def readable(self):
        return True

    def read(self, size=-1):
        assert size is not None and size > 0, "file_check must read in bounded chunks"
        chunk = b"%PDF-1.7\n" if self.read_total == 0 else b"0" * size
        self.read_total += len(chunk)
        self.largest_read = max(self.largest_read, len(chunk))
        return chunk


def test_an_upload_is_read_in_chunks_and_never_beyond_the_limit():
    endless = EndlessUpload()
    with pytest.raises(DocumentRejected) as error:
        file_check(upload=endless, allowed_formats=["pdf"], max_bytes=LIMIT)
    assert error.value.code == "too_large"
    assert endless.read_total <= LIMIT + 1
    assert endless.largest_read <= 64 * 1024


def test_an_upload_whose_size_is_declared_too_large_is_refused_before_reading():
    class Declared(io.BytesIO):
        size = LIMIT + 1

        def read(self, size=-1):
            raise AssertionError("nothing should be read")

    with pytest.raises(DocumentRejected) as error:
        file_check(upload=Declared(b""), allowed_formats=["pdf"], max_bytes=LIMIT)
    assert error.value.code == "too_large"


# --- storage ----------------------------------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def stored_blobs(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(path for path in root.rglob("*") if path.is_file()) if root.exists() else []


@pytestmark_db
def test_a_file_is_stored_under_its_hash_without_name_or_extension(settings):
    content = hostile.png()
    with file_check(
        upload=upload(content, "شناسنامه-مریم.png"), allowed_formats=["png"], max_bytes=LIMIT
    ) as checked:
        stored = file_store(checked=checked)
    assert re.fullmatch(r"blobs/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}", stored.storage_name)
    assert stored.storage_name == blob_name(stored.sha256)
    assert stored.storage_name.startswith(f"blobs/{stored.sha256[:2]}/{stored.sha256[2:4]}/")
    assert (stored.size, stored.content_type) == (len(content), "image/png")
    assert [path.name for path in stored_blobs(settings)] == [stored.sha256]
    with file_open(stored) as opened:
        assert opened.read() == content


@pytestmark_db
def test_the_same_content_is_stored_once(settings):
    content = hostile.jpeg()
    stored = []
    for name in ("a.jpg", "b.jpeg"):
        with file_check(upload=upload(content, name), allowed_formats=["jpg"], max_bytes=LIMIT) as checked:
            stored.append(file_store(checked=checked))
    assert stored[0].pk == stored[1].pk
    assert StoredFile.objects.count() == 1
    assert len(stored_blobs(settings)) == 1


@pytestmark_db
def test_a_blob_left_without_its_row_is_reused(settings):
    """A transaction that rolled back after writing the blob leaves it behind; storing the same
    bytes later finds it instead of making a second copy."""
    content = hostile.pdf()
    with checked_from_bytes(content=content, format="pdf") as checked:
        default_storage.save(blob_name(checked.sha256), io.BytesIO(content))
        stored = file_store(checked=checked)
    assert stored.storage_name == blob_name(stored.sha256)
    assert len(stored_blobs(settings)) == 1


@pytestmark_db
def test_a_row_whose_blob_went_missing_gets_it_back(settings):
    content = hostile.png(colour="red")
    with checked_from_bytes(content=content, format="png") as checked:
        stored = file_store(checked=checked)
        default_storage.delete(stored.storage_name)
        again = file_store(checked=checked)
    assert again.pk == stored.pk
    assert default_storage.exists(stored.storage_name)
