"""What a signatory signs: the sheet and its digest (cases.signatures). The signing itself, with
its authenticator code, is walked through the inbox in tests/desk/test_inbox_fieldwork.py."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from pishkhan.cases.documents import document_upload
from pishkhan.cases.signatures import _outputs_after, signature_required, signature_sheet
from pishkhan.catalog.definition import definition_from_dict
from pishkhan.catalog.loader import load_yaml_text
from tests.cases import hostile
from tests.cases.factories import submit_case

pytestmark = pytest.mark.django_db

EXCAVATION = Path(__file__).resolve().parents[2] / "processes" / "excavation-permit.yaml"


def excavation():
    body, _lines, problems = load_yaml_text(EXCAVATION.read_text(encoding="utf-8"), filename=EXCAVATION.name)
    assert not problems
    return definition_from_dict(body)


def test_a_signature_covers_the_documents_issued_by_the_automatic_steps_after_it():
    definition = excavation()
    sign_permit = definition.step("sign_permit")
    visa = definition.step("head_services_visa")

    assert signature_required(sign_permit) and signature_required(visa)  # a kind, and a flag
    assert not signature_required(definition.step("route_site_visit"))
    assert _outputs_after(definition, sign_permit) == ["permit"]  # through issue_permit
    assert _outputs_after(definition, visa) == []  # a person acts next: nothing is issued on it


def test_the_digest_does_not_depend_on_the_page_language_but_on_the_case(world):
    case = submit_case(service=world.service, district=world.district)
    with translation.override("fa"):
        persian = signature_sheet(case, step_id="review")
    with translation.override("en"):
        english = signature_sheet(case, step_id="review")
    assert persian.sha256 == english.sha256

    document_upload(
        case=case,
        document_type="deed",
        upload=SimpleUploadedFile("deed.pdf", hostile.pdf()),
        by=case.applicant,
    )

    assert signature_sheet(case, step_id="review").sha256 != persian.sha256
