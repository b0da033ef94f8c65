"""`pishkhan simulate` end to end, in processes of its own on a real SQLite file: the history is the
same whether it is played in one process or forked into two, and `pishkhan audit verify` accepts
it."""

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

UNTIL = "2026-11-21T09:00:00+00:00"


def pishkhan(data_dir, *args):
    env = {**os.environ, "PISHKHAN_DATA_DIR": str(data_dir), "DJANGO_SETTINGS_MODULE": "pishkhan.settings"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "pishkhan.cli", *args], env=env, capture_output=True, text=True, timeout=600
    )


def events(data_dir):
    with sqlite3.connect(data_dir / "pishkhan.sqlite3") as db:
        return db.execute(
            "SELECT case_id, seq, activity, hash FROM cases_caseevent ORDER BY case_id, seq"
        ).fetchall()


def test_one_process_or_two_play_the_same_history(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    seeded = pishkhan(one, "demo", "--no-serve", "--cases", "0")
    assert seeded.returncode == 0, seeded.stderr
    assert "office101" in seeded.stdout and "The city holds 0 cases" in seeded.stdout
    shutil.copytree(one, two)
    runs = {}
    for folder, workers in ((one, "1"), (two, "2")):
        args = ["simulate", "--service", "tax-clearance-certificate", "--service", "excavation-permit"]
        runs[workers] = pishkhan(
            folder, *args, "--cases", "120", "--seed", "5", "--until", UNTIL, "--workers", workers
        )
        assert runs[workers].returncode == 0, runs[workers].stderr
    assert "240 cases" in runs["2"].stdout and "ground truth:" in runs["2"].stdout
    assert events(one) == events(two) and len(events(one)) > 2000
    verified = pishkhan(two, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "case event logs OK" in verified.stdout and "cases agree with their logs" in verified.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--service", "no-such-service", "--cases", "5"], "no-such-service"),
        (["--service", "excavation-permit", "--cases", "0"], "--cases"),
        (["--service", "excavation-permit", "--until", "yesterday"], "--until"),
        (["--service", "excavation-permit", "--workers", "0"], "--workers"),
    ],
)
def test_bad_arguments_are_explained(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("simulate", *args)
