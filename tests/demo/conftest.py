import shutil

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from pishkhan.demo.seed import MAIN_SERVICES, seed_demo_city


@pytest.fixture(scope="session")
def main_bank(tmp_path_factory):
    """A process bank of the shipped definitions of the five main services only: the demo staffs
    those, and loading 5 files instead of the whole bank keeps the seeding tests quick."""
    folder = tmp_path_factory.mktemp("main-bank")
    for code in MAIN_SERVICES:
        shutil.copy(settings.PROCESS_BANK_DIR / f"{code}.yaml", folder / f"{code}.yaml")
    return folder


@pytest.fixture(scope="module")
def demo_city(django_db_setup, django_db_blocker, main_bank):
    """The demo city at full size, seeded once for a module of read-only tests. Each test runs in
    its own savepoint inside this fixture's transaction, which is rolled back at the end, so the
    next module starts from an empty database."""
    from pishkhan.accounts.models import Role
    from pishkhan.accounts.roles import STANDARD_ROLES

    with django_db_blocker.unblock(), override_settings(PROCESS_BANK_DIR=main_bank), transaction.atomic():
        Role.objects.bulk_create(
            [
                Role(code=code, name_fa=fa, name_en=en, description=about)
                for code, fa, en, about in STANDARD_ROLES
            ],
            ignore_conflicts=True,
        )
        counts = seed_demo_city()
        yield counts
        transaction.set_rollback(True)
