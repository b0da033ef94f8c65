import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Every test writes uploads, SMS and email logs into its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.SMS_FILE_PATH = tmp_path / "sms.log"
    settings.EMAIL_FILE_PROVIDER_PATH = tmp_path / "email.log"


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the site's default language, Persian. A request in English (the
    language cookie) leaves English active in the test's thread, since LocaleMiddleware does not
    switch back, and a test after it that renders text outside a request would read English."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _tasks_run_at_once(request, settings):
    """Tasks run at once, in the test's thread (django-tasks' ImmediateBackend), so a test sees
    their effect without a worker. Tests marked `db_tasks` keep the database queue, to check the
    real one (django-tasks resets its backends when TASKS changes)."""
    if request.node.get_closest_marker("db_tasks") is None:
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture(autouse=True)
def _standard_roles(request):
    """The standard roles come from a data migration; a transactional test's flush empties the
    table, and the tests after it would then run in a city without roles. Put them back."""
    if not request.node.get_closest_marker("django_db") and not {"db", "transactional_db"} & set(
        request.fixturenames
    ):
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
    from pishkhan.accounts.models import Role
    from pishkhan.accounts.roles import STANDARD_ROLES

    Role.objects.bulk_create(
        [
            Role(code=code, name_fa=fa, name_en=en, description=about)
            for code, fa, en, about in STANDARD_ROLES
        ],
        ignore_conflicts=True,
    )
