import json
import os
import subprocess
import sys

EXPECTED = {
    "database",
    "baseline_tx_per_s",
    "transitions_per_s",
    "ratio",
    "submissions_per_s",
    "status_lookups_per_s",
    "statements_per_transition",
    "round_trips_per_transition",
    "baseline_statements",
    "baseline_round_trips",
    "durability",
    "cases",
    "transitions",
    "automatic_steps",
    "steps_in_definition",
}


def run_bench(tmp_path, *args):
    """The real command in its own process: it creates (and drops) a throwaway database of its own."""
    env = {**os.environ, "PISHKHAN_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "pishkhan.cli", "bench", "engine", "--cases", "1", "--baseline", "20"]
    return subprocess.run(
        [*command, "--lookups", "5", *args], capture_output=True, text=True, env=env, check=False
    )


def test_the_engine_bench_walks_the_129_step_permit_and_prints_its_figures_as_json(tmp_path):
    result = run_bench(tmp_path, "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(figures) == EXPECTED
    assert figures["steps_in_definition"] == 129
    assert figures["transitions"] > 100  # one case, every forward step of the as-is permit
    assert figures["ratio"] > 0
    # Counted as the database received them. The baseline: BEGIN, INSERT, UPDATE, COMMIT, one at a
    # time. A transition adds the lock's reads and the position's write.
    assert (figures["baseline_statements"], figures["baseline_round_trips"]) == (4, 4)
    assert 4 < figures["statements_per_transition"] <= 8
    if figures["database"] == "sqlite":
        assert figures["durability"] == "journal_mode=wal, synchronous=FULL"
        assert figures["round_trips_per_transition"] == figures["statements_per_transition"]
    else:  # the three writes go as one statement, the lock's two reads in one round trip
        assert figures["statements_per_transition"] <= 5
        assert figures["round_trips_per_transition"] < figures["statements_per_transition"]


def test_the_engine_bench_prints_the_ratio_against_its_baseline(tmp_path):
    result = run_bench(tmp_path)
    assert result.returncode == 0, result.stderr
    for line in ("baseline:", "engine:", "ratio:", "statements:", "submissions:", "status look-ups:"):
        assert line in result.stdout


def test_the_baseline_inserts_the_engines_own_event_rows_and_moves_the_case_head(db):
    """The baseline's INSERT is the write an event needs, not a bare row: it replays the events a
    walked case got (step, actor, role, times, data, hashes as the engine stored them)."""
    from pishkhan.bench.engine import _Baseline, _event_rows
    from pishkhan.cases.models import Case, CaseEvent
    from pishkhan.cases.services import case_advance
    from tests.cases.factories import (
        make_district,
        make_staff,
        publish_definition,
        small_process,
        submit_case,
    )

    district = make_district()
    service = publish_definition(small_process())
    walked = submit_case(service=service, district=district)
    case_advance(
        case=walked, step_id="review", outcome="approve", actor=make_staff(role="clerk", district=district)
    )
    replayed = submit_case(service=service, district=district)
    events = _event_rows(walked)
    assert len(events.rows) == 2 and "actor_role" in events.columns and "hash" in events.columns

    _Baseline(replayed, events).run(3)  # one more than there are rows: they are taken in turn

    def stored(case, *, after=0):
        return list(
            CaseEvent.objects.filter(case=case, seq__gt=after).order_by("seq").values_list(*events.columns)
        )

    assert stored(replayed, after=1) == [*stored(walked), stored(walked)[0]]
    head = Case.objects.values_list("event_seq", "event_hash").get(pk=replayed.pk)
    assert head == (4, stored(walked)[0][events.columns.index("hash")])
