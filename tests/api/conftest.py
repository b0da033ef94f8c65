"""Fixtures of the API tests: clients (anonymous, signed in, with a token) and a small city with
two districts, two citizens, two e-service offices and a clerk in each district."""

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from pishkhan.cases.documents import document_upload
from tests.cases.factories import (
    make_citizen,
    make_district,
    make_office,
    make_operator,
    make_staff,
    publish_definition,
    small_process,
    submit_case,
)

# The smallest PDF the upload checks accept: a catalogue, one empty page, a trailer.
PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
    b"trailer << /Root 1 0 R >>\n"
    b"%%EOF\n"
)


def pdf_upload(name="deed.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.fixture
def api():
    """An anonymous API client. It sends no Accept-Language, so answers are in Persian."""
    return APIClient()


@pytest.fixture
def client_for():
    """`client_for(user)`: an API client signed in as `user` through the website's session (as the
    interactive docs are); `client_for(None)` is anonymous. `token=True` authenticates with an API
    token instead, as an integration does."""

    def make(user, *, token=False, language=None):
        client = APIClient()
        if language:
            client.credentials(HTTP_ACCEPT_LANGUAGE=language)
        if user is not None and token:
            key = Token.objects.get_or_create(user=user)[0].key
            client.credentials(HTTP_AUTHORIZATION=f"Token {key}", **client._credentials)
        elif user is not None:
            client.force_login(user)
        return client

    return make


@pytest.fixture
def city(db, request):
    """Districts A and B; citizens 1, 2 (and 3, whose case is in B); office X (operator x) and
    office Y (operator y), both in A; clerk A and clerk B; the small process published (or the
    process a test module's city_process() gives); and three cases, each with a title deed
    uploaded:

    - `online_a`: citizen 1's, filed online in A;
    - `office_a`: filed by office X for citizen 2, in A;
    - `online_b`: citizen 3's, filed online in B."""
    a, b = make_district("d01"), make_district("d02")
    office_x, office_y = make_office(district=a), make_office(district=a)
    process = getattr(request.module, "city_process", small_process)()
    world = SimpleNamespace(
        a=a,
        b=b,
        service=publish_definition(process),
        citizen1=make_citizen(),
        citizen2=make_citizen(),
        citizen3=make_citizen(),
        office_x=office_x,
        office_y=office_y,
        operator_x=make_operator(office=office_x),
        operator_y=make_operator(office=office_y),
        clerk_a=make_staff(role="clerk", district=a),
        clerk_b=make_staff(role="clerk", district=b),
    )
    world.online_a = submit_case(service=world.service, applicant=world.citizen1, district=a)
    world.office_a = submit_case(
        service=world.service,
        applicant=world.citizen2,
        district=a,
        channel="office",
        filed_by=world.operator_x,
        office=office_x,
    )
    world.online_b = submit_case(service=world.service, applicant=world.citizen3, district=b)
    for case, by in (
        (world.online_a, world.citizen1),
        (world.office_a, world.operator_x),
        (world.online_b, world.citizen3),
    ):
        case.deed = document_upload(case=case, document_type="deed", upload=pdf_upload(), by=by)
    return world
