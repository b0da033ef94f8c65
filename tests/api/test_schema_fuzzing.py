"""Property-based checks of the public endpoints against our own OpenAPI schema (schemathesis):
whatever a client sends that the schema allows, the answer is never a server error and is what the
schema says — status, content type and body. Bounded and derandomised, so it runs in seconds and
the same way every time."""

import json

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.cases.factories import make_citizen, make_district, publish_definition, small_process, submit_case

PUBLIC = ["services_list", "services_retrieve", "services_version_retrieve", "status_lookup"]


def _our_schema() -> dict:
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


class InTestApp:
    """Django's WSGI handler as the test client runs it: neither the start nor the end of a request
    may close the database connection, which holds the test's transaction (on PostgreSQL, with
    CONN_MAX_AGE set, it would)."""

    def __init__(self):
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


schema = schemathesis.openapi.from_dict(_our_schema()).include(operation_id=PUBLIC)
schema.app = InTestApp()


@pytest.fixture
def published(db):
    """Something for the generated requests to find: a service with a case."""
    service = publish_definition(small_process())
    submit_case(service=service, applicant=make_citizen(), district=make_district())


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_public_endpoints_answer_as_the_schema_says(case, published):
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
