"""The public catalogue over the API: services, their current definition with its reform metrics,
and any published or retired version (drafts only for their process owners)."""

import json

import pytest

from pishkhan.catalog.services import version_import
from tests.cases.factories import make_staff, process_owner, publish_definition, small_process

pytestmark = pytest.mark.django_db


@pytest.fixture
def services(db):
    publish_definition(small_process())
    publish_definition(
        small_process(
            code="tree-felling",
            title={"fa": "مجوز قطع درخت", "en": "Tree felling permit"},
            keywords=["درخت", "فضای سبز"],
        )
    )


def test_anyone_lists_the_services_with_their_current_version(api, services):
    response = api.get("/api/v1/services/")
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 2
    assert [(s["code"], s["version"]) for s in data["results"]] == [("small-permit", 1), ("tree-felling", 1)]
    assert data["results"][1]["title"] == {"fa": "مجوز قطع درخت", "en": "Tree felling permit"}


def test_the_search_folds_persian_spelling(api, services):
    # "فضاي" with an Arabic Yeh, as some keyboards and old documents write it, finds "فضای".
    found = api.get("/api/v1/services/", {"q": "فضاي"}).json()["results"]
    assert [s["code"] for s in found] == ["tree-felling"]
    assert [s["code"] for s in api.get("/api/v1/services/", {"q": "مجوز قطع"}).json()["results"]] == [
        "tree-felling"
    ]
    assert api.get("/api/v1/services/", {"q": "nothing like it"}).json()["count"] == 0


def test_a_service_shows_its_canonical_definition_and_reform_metrics(api, services):
    response = api.get("/api/v1/services/small-permit/")
    assert response.status_code == 200
    data = response.json()
    assert (data["code"], data["version"], data["status"]) == ("small-permit", 1, "published")
    definition = data["definition"]
    assert definition["schema"] == "pishkhan/process/1"
    assert definition["start"] == "review"
    assert [f["id"] for f in definition["fields"]] == ["area_m2", "night_work", "night_reason"]
    metrics = data["metrics"]
    assert metrics["steps"] == 5
    assert metrics["documents"] == 2
    assert metrics["roles_used"] == ["clerk", "inspector"]


def test_a_new_version_becomes_the_current_one_and_the_retired_one_stays_public(api, services):
    publish_definition(small_process(service_norm_days=7))
    assert api.get("/api/v1/services/small-permit/").json()["version"] == 2
    old = api.get("/api/v1/services/small-permit/versions/1/").json()
    assert (old["version"], old["status"]) == (1, "retired")


def test_unknown_services_and_versions_are_404(api, services):
    assert api.get("/api/v1/services/no-such/").status_code == 404
    assert api.get("/api/v1/services/small-permit/versions/9/").status_code == 404


def test_a_draft_is_shown_to_process_owners_only(client_for, services):
    version_import(
        source=json.dumps(small_process(service_norm_days=3), ensure_ascii=False),
        filename="draft.yaml",
        by=process_owner(),
    )
    url = "/api/v1/services/small-permit/versions/2/"
    assert client_for(None).get(url).status_code == 404
    assert client_for(make_staff(role="clerk")).get(url).status_code == 404
    shown = client_for(process_owner()).get(url)
    assert shown.status_code == 200
    assert shown.json()["status"] == "draft"
    # Not the current version: new cases never start on a draft.
    assert client_for(None).get("/api/v1/services/small-permit/").json()["version"] == 1
