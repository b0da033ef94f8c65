"""Changing the process bank at the desk: editing a draft, a new draft, publishing."""

import pytest
from django import forms
from django.urls import reverse

from pishkhan.catalog import selectors
from pishkhan.catalog.models import ProcessVersion, VersionStatus
from pishkhan.core.audit import audit_events
from tests.portal.factories import (
    KIOSK_V2,
    import_kiosk_draft,
    kiosk_source,
    make_department,
    make_owner,
    publish_kiosk,
)

from .helpers import text_of

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """What the edit page's forms would send back unchanged."""
    data = {"note": ""}
    for formset in (response.context["step_forms"], response.context["document_forms"]):
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management.initial.get(name, ""))
        for form in formset.forms:
            for name, field in form.fields.items():
                value = form.initial.get(name, field.initial)
                key = form.add_prefix(name)
                if isinstance(field, forms.BooleanField):
                    if value:
                        data[key] = "on"
                elif isinstance(value, list):
                    data[key] = value
                elif value is not None:
                    data[key] = str(value)
    return data


def step_key(response, step_id: str, field: str) -> str:
    [form] = [f for f in response.context["step_forms"].forms if f.initial["id"] == step_id]
    return form.add_prefix(field)


def document_key(response, document_id: str, field: str) -> str:
    [form] = [f for f in response.context["document_forms"].forms if f.initial.get("id") == document_id]
    return form.add_prefix(field)


@pytest.fixture
def draft(owner, kiosk):
    """Version 2 of the kiosk permit: a draft copied from the published version 1."""
    from pishkhan.catalog.services import version_new_draft_from

    return version_new_draft_from(version=kiosk, by=owner)


def edit_url(number=2):
    return reverse("desk:version_edit", args=["kiosk-permit", number])


def test_a_process_owner_edits_a_draft_and_the_change_is_saved(client, english, owner, draft):
    client.force_login(owner)
    page = client.get(edit_url())
    data = form_data(page)
    data[step_key(page, "inspect", "title_en")] = "Site visit"
    data[step_key(page, "inspect", "deadline_days")] = "۷"  # Persian digits, as a Persian keyboard types
    data[step_key(page, "beautification", "discretionary")] = ""
    del data[step_key(page, "beautification", "discretionary")]
    data[document_key(page, "licence", "max_size_mb")] = "3"
    data["note"] = "Faster inspection"

    response = client.post(edit_url(), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("desk:version_detail", args=["kiosk-permit", 2])
    definition = selectors.version_definition(selectors.version_get("kiosk-permit", 2))
    inspect = definition.step("inspect")
    assert (inspect.title.en, inspect.title.fa, inspect.deadline_days) == ("Site visit", "بازدید محل", 7)
    assert not definition.step("beautification").discretionary
    assert definition.documents[0].max_size_mb == 3
    assert selectors.version_get("kiosk-permit", 2).note == "Faster inspection"
    assert "Draft saved." in text_of(client.get(response["Location"]))


def test_removing_a_step_joins_the_step_before_it_to_the_step_after_it(client, owner, draft):
    client.force_login(owner)
    page = client.get(edit_url())
    data = form_data(page)
    data[step_key(page, "deputy_signature", "remove")] = "on"

    response = client.post(edit_url(), data)

    assert response.status_code == 302
    definition = selectors.version_definition(selectors.version_get("kiosk-permit", 2))
    assert definition.step("deputy_signature") is None
    assert definition.step("reviews_done").next == "pay"


def test_an_edit_the_validator_refuses_is_shown_beside_the_field_and_nothing_is_saved(
    client, english, owner, draft
):
    before = selectors.version_get("kiosk-permit", 2).body
    client.force_login(owner)
    page = client.get(edit_url())
    data = form_data(page)
    data[step_key(page, "receive", "title_en")] = "What I typed"
    # The site photo is asked at the inspection: removing the inspection leaves it asked by nobody.
    data[step_key(page, "inspect", "remove")] = "on"

    response = client.post(edit_url(), data)

    assert response.status_code == 400
    assert selectors.version_get("kiosk-permit", 2).body == before
    [photo] = [f for f in response.context["document_forms"].forms if f.initial.get("id") == "site_photo"]
    assert "document `site_photo` is asked by `inspect`, which is not a step" in " ".join(
        photo.errors["step"]
    )
    text = text_of(response)
    assert "Nothing was saved" in text
    assert "What I typed" in response.content.decode()


def test_a_form_error_keeps_what_was_typed_and_saves_nothing(client, english, owner, draft):
    before = selectors.version_get("kiosk-permit", 2).body
    client.force_login(owner)
    page = client.get(edit_url())
    data = form_data(page)
    data[step_key(page, "receive", "title_fa")] = ""
    data[step_key(page, "receive", "deadline_days")] = "-2"
    data[step_key(page, "pay", "title_en")] = "Pay now"

    response = client.post(edit_url(), data)

    assert response.status_code == 400
    assert selectors.version_get("kiosk-permit", 2).body == before
    text = text_of(response)
    assert "Every step needs a Persian title." in text
    assert "A deadline cannot be negative." in text
    assert "Pay now" in response.content.decode()
    assert 'value="-2"' in response.content.decode()


def test_a_form_naming_a_step_the_draft_does_not_have_is_a_bad_request(client, owner, draft):
    client.force_login(owner)
    page = client.get(edit_url())
    data = form_data(page)
    data[step_key(page, "receive", "id")] = "smuggled"

    response = client.post(edit_url(), data)

    assert response.status_code == 400


def test_a_published_version_cannot_be_edited(client, english, owner, kiosk):
    before = selectors.version_get("kiosk-permit", 1).body
    client.force_login(owner)

    page = client.get(edit_url(1))
    posted = client.post(edit_url(1), {"note": "sneaky"})

    assert page.status_code == posted.status_code == 409
    assert "This version never changes" in text_of(page)
    assert reverse("desk:version_new_draft", args=["kiosk-permit", 1]) in page.content.decode()
    assert selectors.version_get("kiosk-permit", 1).body == before


def test_a_new_draft_from_the_published_version_opens_for_editing(client, owner, kiosk):
    client.force_login(owner)

    response = client.post(reverse("desk:version_new_draft", args=["kiosk-permit", 1]))

    assert response.status_code == 302
    assert response["Location"] == edit_url(2)
    draft = selectors.version_get("kiosk-permit", 2)
    assert draft.status == VersionStatus.DRAFT
    assert draft.body["steps"] == kiosk.body["steps"]
    assert client.get(edit_url(2)).status_code == 200


def test_a_new_draft_is_only_made_by_post(client, owner, kiosk):
    client.force_login(owner)
    assert client.get(reverse("desk:version_new_draft", args=["kiosk-permit", 1])).status_code == 405
    assert ProcessVersion.objects.count() == 1


def test_publishing_asks_for_confirmation_then_retires_the_old_version_and_is_audited(
    client, english, owner, kiosk
):
    from pishkhan.catalog.services import version_import

    version_import(source=KIOSK_V2.read_text(encoding="utf-8"), filename=KIOSK_V2.name, by=owner)
    client.force_login(owner)
    url = reverse("desk:version_publish", args=["kiosk-permit", 2])

    confirm = client.get(url)

    assert confirm.status_code == 200
    text = text_of(confirm)
    assert "Publish version 2?" in text
    assert "version 1 will be retired" in text
    assert "Discretionary steps 2 0 simpler: −2" in text
    assert selectors.version_get("kiosk-permit", 2).status == VersionStatus.DRAFT  # a GET changes nothing

    response = client.post(url, {"confirm": "yes"})

    assert response.status_code == 302
    assert response["Location"] == reverse("desk:process_detail", args=["kiosk-permit"])
    assert selectors.version_get("kiosk-permit", 2).status == VersionStatus.PUBLISHED
    assert selectors.version_get("kiosk-permit", 1).status == VersionStatus.RETIRED
    event = audit_events(action="process.published").filter(subject="process:kiosk-permit@2").get()
    assert event.actor == owner
    assert event.data["retired_version"] == 1
    follow = client.get(response["Location"])
    assert "Version 2 is published; version 1 is retired." in text_of(follow)


def test_publishing_without_confirming_publishes_nothing(client, owner, draft):
    client.force_login(owner)
    response = client.post(reverse("desk:version_publish", args=["kiosk-permit", 2]))

    assert response.status_code == 400
    assert selectors.version_get("kiosk-permit", 2).status == VersionStatus.DRAFT


def test_publishing_a_draft_that_names_a_role_nobody_holds_is_refused_with_the_reason(
    client, english, owner, kiosk
):
    draft = import_kiosk_draft(owner, source=kiosk_source(**{"role: manager": "role: auditor"}))
    client.force_login(owner)

    response = client.post(
        reverse("desk:version_publish", args=["kiosk-permit", draft.number]), {"confirm": "yes"}
    )

    assert response.status_code == 409
    text = text_of(response)
    assert "It was not published" in text
    assert "names role `auditor` which no district binds" in text
    assert selectors.version_get("kiosk-permit", draft.number).status == VersionStatus.DRAFT
    assert (
        not audit_events(action="process.published")
        .filter(subject=f"process:kiosk-permit@{draft.number}")
        .exists()
    )


def test_publishing_a_published_version_again_is_refused(client, owner, kiosk):
    client.force_login(owner)
    response = client.post(reverse("desk:version_publish", args=["kiosk-permit", 1]), {"confirm": "yes"})
    assert response.status_code == 409


def test_a_process_owner_of_another_department_may_not_change_its_processes(client, english, db):
    make_department("urban-services")
    finance = make_department("finance")
    publish_kiosk(
        make_owner("city-owner"),
        source=kiosk_source(
            **{"category: urban-services": "department: urban-services\ncategory: urban-services"}
        ),
    )
    stranger = make_owner("finance-owner", department=finance)
    client.force_login(stranger)

    new_draft = client.post(reverse("desk:version_new_draft", args=["kiosk-permit", 1]))
    detail = client.get(reverse("desk:process_detail", args=["kiosk-permit"]))

    assert new_draft.status_code == 403
    assert detail.status_code == 200
    assert reverse("desk:version_new_draft", args=["kiosk-permit", 1]) not in detail.content.decode()
    assert ProcessVersion.objects.count() == 1
