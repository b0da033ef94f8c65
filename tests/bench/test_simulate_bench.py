"""`pishkhan bench simulate` in its own process: a throwaway database with a small demo city, the
simulator's events/s against the bulk-write baseline, as text and as one JSON object."""

import json
import os
import subprocess
import sys


def run_bench(tmp_path, *args):
    env = {**os.environ, "PISHKHAN_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "pishkhan.cli", "bench", "simulate", "--cases", "200", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=600)


def test_the_simulate_bench_prints_events_per_second_against_its_baseline(tmp_path):
    result = run_bench(tmp_path, "--json", "--workers", "2")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["cases"] == 200 and figures["events"] > 2000
    assert figures["baseline_rows_per_s"] > 0 and figures["simulated_events_per_s"] > 0
    ratio = figures["simulated_events_per_s"] / figures["baseline_rows_per_s"]
    assert abs(figures["ratio"] - ratio) < 0.002

    text = run_bench(tmp_path, "--workers", "1")
    assert text.returncode == 0, text.stderr
    assert "baseline:" in text.stdout and "simulated events/s:" in text.stdout and "ratio:" in text.stdout
    assert not list(tmp_path.glob("*.sqlite3*"))  # the throwaway database is gone
