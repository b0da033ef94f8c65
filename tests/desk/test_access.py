"""Who may use the staff desk: staff with a role read; process owners change."""

import pytest
from django.urls import reverse

from pishkhan.accounts.models import UserKind
from pishkhan.catalog.models import ProcessVersion, VersionStatus
from tests.portal.factories import make_citizen, make_staff

from .helpers import text_of

pytestmark = pytest.mark.django_db

READ_PAGES = [
    ("desk:process_list", {}),
    ("desk:process_detail", {"code": "kiosk-permit"}),
    ("desk:process_compare", {"code": "kiosk-permit"}),
    ("desk:version_detail", {"code": "kiosk-permit", "number": 1}),
]
OWNER_PAGES = [
    ("desk:process_import", {}),
    ("desk:version_edit", {"code": "kiosk-permit", "number": 1}),
    ("desk:version_publish", {"code": "kiosk-permit", "number": 1}),
]


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES + OWNER_PAGES)
def test_someone_not_signed_in_is_sent_to_the_staff_sign_in_and_brought_back(client, kiosk, name, kwargs):
    url = reverse(name, kwargs=kwargs)
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:staff_signin") + "?next=" + url


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES + OWNER_PAGES)
def test_a_citizen_is_refused_with_a_page_that_says_why(client, english, kiosk, name, kwargs):
    client.force_login(make_citizen())
    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 403
    assert "The staff desk is for municipal staff with a role" in text_of(response)


def test_an_office_operator_and_a_staff_member_without_a_role_are_refused(client, kiosk):
    for user in (make_staff("office101", kind=UserKind.OPERATOR), make_staff("newcomer")):
        client.force_login(user)
        assert client.get(reverse("desk:process_list")).status_code == 403


@pytest.mark.parametrize(("name", "kwargs"), READ_PAGES)
def test_a_clerk_reads_every_process_page(client, clerk, kiosk, name, kwargs):
    client.force_login(clerk)
    assert client.get(reverse(name, kwargs=kwargs)).status_code == 200


def test_a_clerk_is_offered_no_change_and_may_make_none(client, english, clerk, kiosk):
    client.force_login(clerk)
    page = client.get(reverse("desk:process_detail", args=["kiosk-permit"])).content.decode()
    assert reverse("desk:version_edit", args=["kiosk-permit", 1]) not in page
    assert reverse("desk:version_new_draft", args=["kiosk-permit", 1]) not in page
    assert reverse("desk:process_import") not in page

    for name, kwargs in OWNER_PAGES:
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 403
        assert "Only a process owner" in text_of(response)
    new_draft = client.post(reverse("desk:version_new_draft", args=["kiosk-permit", 1]))
    publish = client.post(reverse("desk:version_publish", args=["kiosk-permit", 1]), {"confirm": "yes"})

    assert new_draft.status_code == publish.status_code == 403
    assert ProcessVersion.objects.count() == 1
    assert ProcessVersion.objects.get().status == VersionStatus.PUBLISHED


def test_the_desk_home_leads_a_clerk_to_the_queue_and_a_process_owner_to_the_process_bank(
    client, clerk, owner
):
    client.force_login(clerk)
    response = client.get(reverse("desk:home"))
    assert (response.status_code, response["Location"]) == (302, reverse("desk:inbox"))

    client.force_login(owner)
    response = client.get(reverse("desk:home"))
    assert (response.status_code, response["Location"]) == (302, reverse("desk:process_list"))


def test_the_desk_home_leads_an_auditor_to_the_map_and_a_manager_to_the_team(client):
    client.force_login(make_staff("auditor1", "auditor"))
    assert client.get(reverse("desk:home"))["Location"] == reverse("desk:map")

    client.force_login(make_staff("manager1", "manager"))
    assert client.get(reverse("desk:home"))["Location"] == reverse("desk:inbox_team")
