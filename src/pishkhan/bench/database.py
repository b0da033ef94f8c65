"""A throwaway database for a benchmark, on the configured server.

    with throwaway_database():
        ...   # the default connection points at a fresh, migrated database

SQLite: a real file in a temporary folder (WAL and synchronous=FULL only mean something on disk);
PostgreSQL: a `pishkhan_bench_<pid>` database, so a bench never clobbers a test database on the
same server. Destroyed afterwards, whatever happens; the city's own data is never touched.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from pathlib import Path

from django.db import connection


@contextlib.contextmanager
def throwaway_database():
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    folder = None
    if connection.vendor == "sqlite":
        folder = tempfile.TemporaryDirectory(prefix="pishkhan-bench-")
        connection.settings_dict.setdefault("TEST", {})["NAME"] = str(Path(folder.name) / "bench.sqlite3")
    else:
        connection.settings_dict.setdefault("TEST", {})["NAME"] = f"pishkhan_bench_{os.getpid()}"
    creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    quiet = logging.getLogger("pishkhan")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # the engine's per-case info lines would drown the figures
    try:
        yield
    finally:
        quiet.setLevel(level)
        creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        if folder is not None:
            folder.cleanup()
