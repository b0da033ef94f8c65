"""The published OpenAPI schema and the interactive docs."""

import json
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_validates_without_a_single_warning(tmp_path):
    target = tmp_path / "schema.json"
    # --fail-on-warn turns every drf-spectacular warning (an unknown type, a path parameter it
    # cannot derive …) into a failure; --validate checks the result against the OpenAPI 3 spec.
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(target)
    )
    schema = json.loads(target.read_text())
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    for path in (
        "/api/v1/services/",
        "/api/v1/cases/",
        "/api/v1/cases/{tracking_code}/steps/{step_id}/act/",
        "/api/v1/status/",
        "/api/v1/queue/",
    ):
        assert path in paths
    submit = paths["/api/v1/cases/"]["post"]
    header = next(p for p in submit["parameters"] if p["name"] == "Idempotency-Key")
    assert header["in"] == "header" and header["required"] is True
    assert {"tokenAuth", "cookieAuth"} <= set(schema["components"]["securitySchemes"])


def test_the_schema_is_served_as_yaml_and_json(api):
    yaml = api.get("/api/v1/schema/")
    assert yaml.status_code == 200
    assert yaml.content.startswith(b"openapi: 3")
    as_json = api.get("/api/v1/schema/?format=json")
    assert as_json.status_code == 200
    assert as_json.json()["info"]["title"] == "Pishkhan API"


class _Assets(HTMLParser):
    """Collects every URL a page loads: scripts, stylesheets, icons, preconnects, images."""

    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"script", "img", "iframe"} and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def _loaded_urls(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    # And any URL written into inline script or style (a CDN address in JS, @import in CSS).
    return parser.urls + re.findall(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s"'<>)]*""", html)


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_interactive_docs_load_everything_from_our_own_static_files(api, page):
    response = api.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    urls = _loaded_urls(html)
    assert urls, "the page loads no script at all?"
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from another host"
    scripts_and_styles = [u for u in urls if u.endswith((".js", ".css"))]
    assert scripts_and_styles
    assert all(u.startswith("/static/") for u in scripts_and_styles), scripts_and_styles
    # And those static files are really there.
    for url in scripts_and_styles:
        asset = api.get(url)
        assert asset.status_code == 200, url
        # A streamed file: read it to the end, which closes it; a leaked handle is a warning (an error).
        assert b"".join(asset.streaming_content)


def test_a_path_no_endpoint_has_answers_a_json_404_in_the_apis_shape(api):
    response = api.get("/api/v1/casez/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "code": "not_found",
        "detail": "There is no such API endpoint. The list is at /api/v1/docs/.",
    }
    assert api.post("/api/v1/cases/123/explode/").status_code == 404


def test_a_browser_asking_for_html_gets_json_whatever_the_endpoint(city, client_for):
    code = city.online_a.tracking_code
    urls = [
        "/api/v1/services/",
        "/api/v1/services/small-permit/",
        "/api/v1/cases/",
        f"/api/v1/cases/{code}/",
        f"/api/v1/cases/{code}/timeline/",
        f"/api/v1/cases/{code}/documents/",
        f"/api/v1/cases/{code}/withdraw/",
        f"/api/v1/cases/{code}/steps/review/act/",
        "/api/v1/status/",
        "/api/v1/queue/",
    ]
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    for who in (None, city.citizen1, city.clerk_a):
        client = client_for(who)
        for url in urls:
            response = client.get(url, HTTP_ACCEPT=browser_accept)
            assert response.status_code < 500, url
            assert response["Content-Type"] == "application/json", url
