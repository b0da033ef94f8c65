import shutil

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from pishkhan.demo.seed import MAIN_SERVICES, seed_demo_city


@pytest.fixture(scope="session")
def main_bank_with_variants(tmp_path_factory):
    """The shipped definitions of the five main services and their district variants."""
    folder = tmp_path_factory.mktemp("main-bank")
    (folder / "variants").mkdir()
    for code in MAIN_SERVICES:
        shutil.copy(settings.PROCESS_BANK_DIR / f"{code}.yaml", folder / f"{code}.yaml")
        for variant in (settings.PROCESS_BANK_DIR / "variants").glob(f"{code}.*.yaml"):
            shutil.copy(variant, folder / "variants" / variant.name)
    return folder


@pytest.fixture(scope="module")
def city(django_db_setup, django_db_blocker, main_bank_with_variants):
    """A small demo city (all districts and staff, few offices and citizens), seeded once per
    module inside a transaction rolled back at the end; tests run in savepoints inside it."""
    from pishkhan.accounts.models import Role
    from pishkhan.accounts.roles import STANDARD_ROLES

    with (
        django_db_blocker.unblock(),
        override_settings(PROCESS_BANK_DIR=main_bank_with_variants),
        transaction.atomic(),
    ):
        Role.objects.bulk_create(
            [
                Role(code=code, name_fa=fa, name_en=en, description=about)
                for code, fa, en, about in STANDARD_ROLES
            ],
            ignore_conflicts=True,
        )
        counts = seed_demo_city(citizens=200, offices=30)
        yield counts
        transaction.set_rollback(True)
