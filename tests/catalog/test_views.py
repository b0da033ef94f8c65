import json

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["process-1", "variant-1"])
def test_the_json_schemas_are_published(client, name):
    response = client.get(f"/catalog/schema/{name}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = json.loads(b"".join(response.streaming_content))
    assert schema["$schema"].startswith("https://json-schema.org/draft/2020-12")


@pytest.mark.django_db
def test_an_unknown_schema_is_404(client):
    assert client.get("/catalog/schema/etc-passwd.json").status_code == 404
