"""Page weight, measured: every page of the tour (tests/portal/tour.py) is rendered with the
test client, as the person it is for, and everything it makes the browser fetch is added up.

What a page loads: its HTML; each stylesheet, script, image, icon and preloaded file it names;
every /static/ file its HTML names in any attribute (the map's marker images sit in data-
attributes until a marker is drawn); every url(…) and @import in the stylesheets it loads, fonts
included; and the data its own scripts fetch as it opens (the staff map's JSON). Static files are
read from disk through django.contrib.staticfiles' finders — `static/vendor/` is what
scripts/assets.py copied from npm — so a page that names a missing file fails here.

Two figures per file: its size as stored ("raw") and "over the wire": gzip at level 6, as our
server (WhiteNoise) or a proxy sends text. Files already compressed in their own format (WOFF2,
PNG, JPEG …) go as they are; WhiteNoise does not compress them either. Each file is counted once
per page, as a browser with an empty cache fetches it.

Budgets, over the wire, with an empty cache (the first visit, the worst case). A slow phone on a
poor 3G link (about 400 kbit/s, the "slow 3G" of browser tools) moves some 50 KB a second. Every
page carries the same 114 KB: the Vazirmatn font (108.5 KB, one variable file for every weight;
text shows in the fallback font until it arrives), the shared stylesheet and the emblem.
When the budgets were set, the pages without a map weighed 116–123 KB and the two with a map
(Leaflet with its stylesheet is some 45 KB, and the apply form carries the districts' outlines)
180–191 KB. The budgets leave about a third of headroom over the heaviest of each kind, so
ordinary growth passes and a JavaScript framework, a second font or an unoptimised image does not:
  170 KB for a page without a map (three and a half seconds on slow 3G),
  260 KB for a page with one (five seconds).
Staff pages get the same budgets: inspectors and office operators work from phones too. A page
that needs more must say why here, not just raise its number. `pytest -s` prints the table; it
is also written to test-artifacts/page-weight.txt (the folder named by PISHKHAN_ARTIFACTS, when
set).

No page may load anything from another site: no CDN, no web font service, no tile server by
default (tests/e2e/test_accessibility.py opens the same pages in a real browser).
"""

from __future__ import annotations

import gzip
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.portal.tour import TourPage, tour_build

pytestmark = pytest.mark.django_db

KB = 1024
BUDGET_KB = {False: 170, True: 260}  # by has_map, over the wire; see the docstring
# Formats that are compressed already: sent as they are (WhiteNoise skips them too).
COMPRESSED = {".woff2", ".woff", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".pdf", ".zip"}
KINDS = {".css": "css", ".js": "js", ".woff2": "font", ".woff": "font", ".ttf": "font", ".otf": "font"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico"}
# Elements and attributes through which a page makes the browser fetch something.
FETCHING = {
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("embed", "src"),
    ("source", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("audio", "src"),
    ("input", "src"),
    ("object", "data"),
}
# <link rel=…> values the browser fetches at once.
FETCHING_RELS = {"stylesheet", "preload", "modulepreload", "icon", "apple-touch-icon", "manifest"}
CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)|@import\s+(['"])([^'"]+)\3""")


@dataclass
class Fetched:
    """One file a page loads: `url` as the page names it, its kind, and both sizes in bytes."""

    url: str
    kind: str
    raw: int
    wire: int


@dataclass
class Weighed:
    page: TourPage
    files: list[Fetched] = field(default_factory=list)
    external: list[str] = field(default_factory=list)

    def total(self, attribute: str, kind: str | None = None) -> int:
        return sum(getattr(f, attribute) for f in self.files if kind is None or f.kind == kind)

    @property
    def budget(self) -> int:
        return BUDGET_KB[self.page.has_map] * KB


class Loads(HTMLParser):
    """The URLs an HTML page makes the browser fetch, and the CSS written into the page itself."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.named_static: list[str] = []  # /static/ files named in any other attribute
        self.inline_css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if not value:
                continue
            if (tag, name) in FETCHING:
                self.urls.append(value)
            elif name in ("srcset", "imagesrcset"):
                self.urls += [candidate.split()[0] for candidate in value.split(",") if candidate.strip()]
            elif name == "style":
                self.inline_css.append(value)
            elif value.startswith(settings.STATIC_URL) and name != "href":
                self.named_static.append(value)
        rels = set((attributes.get("rel") or "").lower().split())
        if tag == "link" and rels & FETCHING_RELS and attributes.get("href"):
            self.urls.append(attributes["href"])
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.inline_css.append(data)


def is_external(url: str) -> bool:
    """True for anything not on this site: another host, or a scheme (https:, //host, ftp:).
    data: URLs are part of the page itself."""
    parts = urlsplit(url)
    return parts.scheme not in ("", "data") or bool(parts.netloc)


def kind_of(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in IMAGE_SUFFIXES:
        return "image"
    return KINDS.get(suffix, "html")


def wire_size(path: str, content: bytes) -> int:
    if PurePosixPath(path).suffix.lower() in COMPRESSED:
        return len(content)
    return len(gzip.compress(content, compresslevel=6, mtime=0))


def css_references(css: str, base: str) -> list[str]:
    """The url(…) and @import targets of a stylesheet, resolved against its own URL."""
    found = []
    for match in CSS_URL.finditer(CSS_COMMENT.sub("", css)):
        target = (match.group(2) or match.group(4)).strip()
        if not target.startswith(("data:", "#")):
            found.append(urljoin(base, target))
    return found


def static_file(url: str) -> bytes:
    """The content of /static/… as the staticfiles finders find it (what collectstatic copies)."""
    name = urlsplit(url).path.removeprefix(settings.STATIC_URL)
    found = finders.find(name)
    assert found, f"{url} is named by a page but no static folder has it (run `make assets`?)"
    return Path(found).read_bytes()


def weigh(page: TourPage) -> Weighed:
    """Load `page` as its user and everything it makes the browser fetch."""
    client = Client()
    if page.user is not None:
        client.force_login(page.user)
    response = client.get(page.url)
    assert response.status_code == 200, (page.name, response.status_code)
    weighed = Weighed(page=page)
    weighed.files.append(
        Fetched(page.url, "html", len(response.content), wire_size(".html", response.content))
    )

    parser = Loads()
    parser.feed(response.content.decode())
    queue = [urljoin(page.url, url) for url in parser.urls + parser.named_static]
    queue += [url for css in parser.inline_css for url in css_references(css, page.url)]
    queue += list(page.fetches)
    seen = {page.url}
    while queue:
        url = queue.pop(0)
        if urlsplit(url).scheme == "data":  # inside the page already
            continue
        if is_external(url):
            weighed.external.append(url)
            continue
        path = urlsplit(url).path
        if path in seen:
            continue
        seen.add(path)
        if path.startswith(settings.STATIC_URL):
            content = static_file(url)
        else:  # a page of our own: the staff map's data, a document shown inline
            fetched = client.get(url)
            assert fetched.status_code == 200, (page.name, url, fetched.status_code)
            content = fetched.content
        weighed.files.append(Fetched(path, kind_of(path), len(content), wire_size(path, content)))
        if path.endswith(".css"):
            queue += css_references(content.decode("utf-8"), url)
    return weighed


def kb(size: int) -> str:
    return f"{size / KB:.1f}"


def weight_table(results: list[Weighed]) -> str:
    """The figures, one row per page, in KB (1024 bytes); then each page's files."""
    head = (
        f"{'page':<17}{'files':>6}{'html':>8}{'css':>8}{'js':>8}{'font':>8}{'image':>8}"
        f"{'raw':>9}{'wire':>9}{'budget':>8}"
    )
    lines = [
        "Page weight with an empty cache, in KB (1024 bytes). html (with the data the page's own",
        "scripts fetch), css, js, font, image: over the wire (gzip -6; WOFF2 and PNG as they are).",
        "raw: as stored; wire: as sent; budget: the most the page may send.",
        "",
        head,
        "-" * len(head),
    ]
    for result in results:
        lines.append(
            f"{result.page.name:<17}{len(result.files):>6}"
            + "".join(
                f"{kb(result.total('wire', kind)):>8}" for kind in ("html", "css", "js", "font", "image")
            )
            + f"{kb(result.total('raw')):>9}{kb(result.total('wire')):>9}{kb(result.budget):>8}"
        )
    lines += ["", "Files of each page (wire KB, raw KB):"]
    for result in results:
        lines.append(f"  {result.page.name} — {result.page.url}")
        lines += [f"    {kb(f.wire):>7} {kb(f.raw):>7}  {f.url}" for f in result.files]
    return "\n".join(lines) + "\n"


def artifacts() -> Path:
    folder = Path(os.environ.get("PISHKHAN_ARTIFACTS", "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_every_page_fits_its_budget_and_loads_nothing_from_another_site():
    results = [weigh(page) for page in tour_build().pages]
    table = weight_table(results)
    (artifacts() / "page-weight.txt").write_text(table, encoding="utf-8")
    print("\n" + table)

    assert {result.page.name: result.external for result in results if result.external} == {}
    over = {
        result.page.name: f"{kb(result.total('wire'))} KB > {kb(result.budget)} KB"
        for result in results
        if result.total("wire") > result.budget
    }
    assert over == {}, "over budget (see the table above or test-artifacts/page-weight.txt)"


def test_the_measure_finds_what_a_page_loads_and_what_comes_from_elsewhere():
    """The collector itself, on a page written for it: a stylesheet with a font and an image, a
    script, an image, a marker image named in a data attribute, and three files from elsewhere."""
    parser = Loads()
    parser.feed(
        '<link rel="stylesheet" href="/static/pishkhan/css/pishkhan.css">'
        '<link rel="preload" href="https://fonts.example.org/a.woff2" as="font">'
        '<link rel="canonical" href="https://example.org/">'  # a name, not a fetch
        '<script src="//cdn.example.org/lib.js"></script><script src="/static/portal/apply.js"></script>'
        '<img src="/static/pishkhan/img/emblem.svg" srcset="/static/a.png 1x, /static/b.png 2x">'
        '<div data-icon="/static/vendor/leaflet/images/marker-icon.png" style="background:url(x.png)"></div>'
        '<a href="https://example.org/">a link is not a load</a>'
        "<style>@import url('https://cdn.example.org/x.css');</style>"
    )
    assert parser.urls == [
        "/static/pishkhan/css/pishkhan.css",
        "https://fonts.example.org/a.woff2",
        "//cdn.example.org/lib.js",
        "/static/portal/apply.js",
        "/static/pishkhan/img/emblem.svg",
        "/static/a.png",
        "/static/b.png",
    ]
    assert parser.named_static == ["/static/vendor/leaflet/images/marker-icon.png"]
    inline = [url for css in parser.inline_css for url in css_references(css, "/services/")]
    assert inline == ["/services/x.png", "https://cdn.example.org/x.css"]
    assert [is_external(url) for url in (*parser.urls[:4], *inline)] == [
        False,
        True,
        True,
        False,
        False,
        True,
    ]
    assert not is_external("data:image/png;base64,AAAA")
    css = static_file("/static/pishkhan/css/pishkhan.css").decode()
    assert "/static/vendor/vazirmatn/Vazirmatn-Variable.woff2" in css_references(
        css, "/static/pishkhan/css/pishkhan.css"
    )
