"""`pishkhan bench sweep` in its own process: a throwaway database filled with open steps, the
sweep's and the workload counts' time against reading every open step once, as text and JSON."""

import json
import os
import subprocess
import sys

import pytest


def run_bench(tmp_path, *args):
    env = {**os.environ, "PISHKHAN_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "pishkhan.cli", "bench", "sweep", *args]
    return subprocess.run(command, capture_output=True, text=True, env=env, check=False, timeout=600)


def test_the_sweep_bench_prints_its_figures_against_a_read_of_every_open_step(tmp_path):
    result = run_bench(tmp_path, "--cases", "50", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["open_steps"] == 50 * 20
    assert figures["baseline_ms"] > 0 and figures["sweep_ms"] > 0 and figures["workload_ms"] > 0
    # Rounded to three decimals in the JSON.
    assert figures["sweep_ratio"] == pytest.approx(figures["sweep_ms"] / figures["baseline_ms"], rel=0.01)
    assert figures["workload_ratio"] == pytest.approx(
        figures["workload_ms"] / figures["baseline_ms"], rel=0.01
    )

    text = run_bench(tmp_path, "--cases", "20")
    assert text.returncode == 0, text.stderr
    for line in ("400 open steps", "baseline:", "sweep:", "workload counts:", "× the baseline"):
        assert line in text.stdout
    assert not list(tmp_path.glob("*.sqlite3*"))  # the throwaway database is gone


def test_the_sweep_bench_refuses_a_size_out_of_range(tmp_path):
    result = run_bench(tmp_path, "--cases", "0")
    assert result.returncode != 0
    assert "--cases must be between 1 and 100,000" in result.stderr
