import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_read_from_the_environment_is_listed_in_env_example():
    source = (ROOT / "src/pishkhan/settings.py").read_text()
    read = set(re.findall(r'env(?:_bool|_list)?\(\s*"([A-Z_]+)"', source))
    listed = set(re.findall(r"^PISHKHAN_([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set(), "document these in .env.example"
    assert listed - read == set(), "these are documented but never read"


def test_a_sqlite_database_file_runs_in_wal_mode_with_full_synchronous_commits(tmp_path, django_db_blocker):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite pragmas apply to SQLite only")
    # The test database lives in memory, where WAL does not apply: open a file with the same options.
    params = {**connections["default"].settings_dict, "NAME": str(tmp_path / "wal.sqlite3")}
    wrapper = type(connections["default"])(params, alias="wal-check")
    try:
        with django_db_blocker.unblock(), wrapper.cursor() as cursor:
            assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cursor.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
            assert cursor.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        wrapper.close()


def test_times_are_stored_in_utc_and_shown_in_tehran():
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Asia/Tehran"
    assert settings.LANGUAGE_CODE == "fa"
