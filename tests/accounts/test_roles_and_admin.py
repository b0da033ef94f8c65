"""Role bindings and the admin's reads of personal data are audited."""

import re

import pytest
from django.urls import reverse

from pishkhan.accounts import services
from pishkhan.accounts.models import District, Role, RoleBinding
from pishkhan.core.models import AuditEvent

from .helpers import make_citizen, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return make_staff("admin", is_staff=True, is_superuser=True)


@pytest.fixture
def inspector():
    return Role.objects.get_or_create(
        code="inspector", defaults={"name_fa": "بازدیدکننده", "name_en": "Inspector"}
    )[0]


@pytest.fixture
def district():
    return District.objects.create(code="d01", number=1, name_fa="منطقه ۱", name_en="District 1")


def test_granting_a_role_is_audited(admin_user, inspector, district):
    staff = make_staff()
    binding = services.role_grant(user=staff, role=inspector, district=district, by=admin_user)
    event = AuditEvent.objects.get(action="role.granted")
    assert (event.actor, event.subject) == (admin_user, f"user:{staff.pk}")
    assert event.data == {
        "binding": binding.pk,
        "user": staff.pk,
        "role": "inspector",
        "district": "d01",
        "department": None,
    }


def test_revoking_a_role_is_audited(admin_user, inspector):
    staff = make_staff()
    binding = services.role_grant(user=staff, role=inspector, by=admin_user)
    services.role_revoke(binding=binding, by=admin_user)
    assert not RoleBinding.objects.exists()
    event = AuditEvent.objects.get(action="role.revoked")
    assert (event.actor, event.data["role"], event.data["district"]) == (admin_user, "inspector", None)


def test_a_role_cannot_be_granted_twice_or_to_a_citizen(admin_user, inspector):
    staff = make_staff()
    services.role_grant(user=staff, role=inspector, by=admin_user)
    with pytest.raises(services.RoleError) as raised:
        services.role_grant(user=staff, role=inspector, by=admin_user)
    assert raised.value.code == "duplicate"
    with pytest.raises(services.RoleError) as raised:
        services.role_grant(user=make_citizen(), role=inspector, by=admin_user)
    assert raised.value.code == "citizen"
    assert AuditEvent.objects.filter(action="role.granted").count() == 1


def test_a_role_granted_in_the_admin_is_audited(client, admin_user, inspector, district):
    staff = make_staff()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_rolebinding_add"),
        {"user": staff.pk, "role": inspector.pk, "district": district.pk, "department": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    binding = RoleBinding.objects.get()
    assert (binding.user, binding.role, binding.district) == (staff, inspector, district)
    event = AuditEvent.objects.get(action="role.granted")
    assert (event.actor, event.data["binding"]) == (admin_user, binding.pk)


def test_a_role_removed_in_the_admin_is_audited(client, admin_user, inspector):
    binding = services.role_grant(user=make_staff(), role=inspector, by=admin_user)
    client.force_login(admin_user)
    response = client.post(reverse("admin:accounts_rolebinding_delete", args=[binding.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not RoleBinding.objects.exists()
    assert AuditEvent.objects.get(action="role.revoked").actor == admin_user


def test_the_admin_does_not_offer_citizens_for_roles(client, admin_user):
    citizen = make_citizen()
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_rolebinding_add")).content.decode()
    user_choices = re.search(r'<select name="user".*?</select>', page, re.S).group(0)
    assert f'value="{admin_user.pk}"' in user_choices
    assert f'value="{citizen.pk}"' not in user_choices


def test_opening_a_citizen_in_the_admin_records_that_the_national_id_was_read(client, admin_user):
    citizen = make_citizen(national_id="0012345679")
    client.force_login(admin_user)
    response = client.get(reverse("admin:accounts_user_change", args=[citizen.pk]), REMOTE_ADDR="192.0.2.30")
    assert response.status_code == 200
    assert "0012345679" in response.content.decode()
    event = AuditEvent.objects.get(action="national_id.read")
    assert (event.actor, event.subject, event.address) == (admin_user, f"user:{citizen.pk}", "192.0.2.30")


def test_listing_users_and_opening_staff_accounts_read_no_national_id(client, admin_user):
    citizen = make_citizen(national_id="0012345679")
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "0012345679" not in page
    assert client.get(reverse("admin:accounts_user_change", args=[admin_user.pk])).status_code == 200
    assert (
        client.get(reverse("admin:accounts_user_change", args=[make_citizen("09350000000").pk])).status_code
        == 200
    )
    assert not AuditEvent.objects.filter(action="national_id.read").exists()
    assert citizen.national_id


def test_the_admin_change_page_never_shows_the_authenticator_secret(client, admin_user):
    staff = make_staff()
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_change", args=[staff.pk])).content.decode()
    assert staff.totp_secret not in page
