"""The roles a city gets from its process bank: every staff role a published definition declares
becomes an accounts.Role that districts can bind; roles only the applicant plays do not."""

import pytest

from pishkhan.accounts.models import Role
from pishkhan.catalog import selectors
from pishkhan.catalog.services import roles_ensure_from_definitions, version_import, version_publish
from pishkhan.core.audit import audit_events

from .catalog_factories import SIGN_PERMIT_V1, make_district, make_owner, make_staff

pytestmark = pytest.mark.django_db

ROLES_BLOCK = """roles:
  - {code: sign_expert, title: {fa: کارشناس تابلو, en: Sign expert}}
  - {code: beauty_board, title: {fa: دبیرخانه زیباسازی, en: Beautification board}}
  - {code: applicant, title: {fa: متقاضی, en: Applicant}}
start: receive
"""


def sign_permit_with_bank_roles() -> str:
    """The sign permit as the bank writes processes: its own roles declared, the payment step
    named for the applicant."""
    text = SIGN_PERMIT_V1.read_text(encoding="utf-8")
    text = text.replace("start: receive\n", ROLES_BLOCK, 1)
    text = text.replace("    role: clerk\n    kind: review", "    role: sign_expert\n    kind: review", 1)
    text = text.replace("    role: manager\n    kind: review", "    role: beauty_board\n    kind: review", 1)
    return text.replace("    role: clerk\n    kind: payment", "    role: applicant\n    kind: payment", 1)


def publish_sign_permit():
    version = version_import(source=sign_permit_with_bank_roles(), filename="sign-permit.yaml")
    return version_publish(version=version, by=make_owner(), force=True).version


def test_every_staff_role_a_published_definition_declares_becomes_a_role_with_its_titles():
    publish_sign_permit()

    created = roles_ensure_from_definitions()

    assert [role.code for role in created] == ["beauty_board", "sign_expert"]
    expert = Role.objects.get(code="sign_expert")
    assert (expert.name_fa, expert.name_en) == ("کارشناس تابلو", "Sign expert")
    event = audit_events(action="role.created").get()
    assert event.data["roles"] == ["beauty_board", "sign_expert"]


def test_the_applicant_is_not_a_staff_role():
    publish_sign_permit()
    roles_ensure_from_definitions()
    assert not Role.objects.filter(code="applicant").exists()
    definition = selectors.definitions_published()[0]
    assert "applicant" not in selectors.roles_worked_by_staff(definition)


def test_a_role_the_city_has_keeps_its_name_and_a_second_run_creates_nothing():
    Role.objects.create(code="sign_expert", name_fa="کارشناس تابلوها", name_en="Signage officer")
    publish_sign_permit()

    assert [role.code for role in roles_ensure_from_definitions()] == ["beauty_board"]
    assert roles_ensure_from_definitions() == []
    assert Role.objects.get(code="sign_expert").name_en == "Signage officer"
    assert audit_events(action="role.created").count() == 1


def test_drafts_give_no_roles():
    version_import(source=sign_permit_with_bank_roles(), filename="sign-permit.yaml")
    assert roles_ensure_from_definitions() == []


def test_publishing_needs_nobody_bound_for_the_applicants_payment():
    publish_sign_permit()
    roles_ensure_from_definitions()
    district = make_district()
    make_staff("staff", "sign_expert", "beauty_board", "inspector", "signatory", district=district)
    draft = version_import(
        source=sign_permit_with_bank_roles().replace("version: 1", "version: 2", 1), filename="v2"
    )

    publication = version_publish(version=draft, by=make_owner("owner2"))

    assert publication.warnings == []
