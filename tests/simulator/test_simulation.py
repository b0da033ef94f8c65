"""The simulator plays cases with the engine's rules and writes the engine's rows: its history
passes every check the engine applies, the same seed gives the same history, and the ground truth
says what it planted."""

import datetime as dt
import json
from collections import Counter

import pytest
from django.db import transaction

from pishkhan.accounts.models import User
from pishkhan.cases.events import case_chains_verify, event_hash
from pishkhan.cases.invariants import case_invariants_check
from pishkhan.cases.issuing import issued_file_ensure
from pishkhan.cases.models import Case, CaseEvent, CaseStatus, IssuedDocument, Position
from pishkhan.cases.selectors import queue_for
from pishkhan.cases.services import case_advance, case_claim
from pishkhan.cases.tracking import tracking_code_valid
from pishkhan.simulator.scenario import BASE_WAIT_DAYS, Scenario
from pishkhan.simulator.services import simulation_run

pytestmark = pytest.mark.django_db

END = dt.datetime(2026, 11, 21, 9, 0, tzinfo=dt.UTC)
MIX = {"excavation-permit": 40, "tax-clearance-certificate": 40, "building-permit": 4}


class Rollback(Exception):
    pass


def play(*, seed=7, services=None, truth_path=None, end=END):
    scenario = Scenario(services=dict(services or MIX), seed=seed, end=end, days=120)
    return simulation_run(scenario=scenario, truth_path=truth_path, workers=1)


def history_snapshot():
    """What a history is, without database row ids of events."""
    cases = list(
        Case.objects.order_by("pk").values_list("pk", "tracking_code", "status", "district_id", "event_hash")
    )
    events = list(
        CaseEvent.objects.order_by("case_id", "seq").values_list(
            "case_id", "seq", "activity", "completed_at", "hash"
        )
    )
    return cases, events


def test_simulated_history_passes_the_engines_checks(city):
    report = play()
    assert report.cases == sum(MIX.values())
    assert report.events == CaseEvent.objects.count() > report.cases * 5
    assert case_chains_verify() == []
    assert case_invariants_check() == []
    statuses = Counter(Case.objects.values_list("status", flat=True))
    assert statuses[CaseStatus.APPROVED] > 0
    assert statuses[CaseStatus.OPEN] + statuses[CaseStatus.WITH_CITIZEN] > 0
    assert all(tracking_code_valid(code) for code in Case.objects.values_list("tracking_code", flat=True))
    activities = Counter(CaseEvent.objects.values_list("activity", flat=True))
    for activity in (
        "submitted",
        "claimed",
        "completed",
        "paid",
        "ended",
        "document_issued",
        "returned",
        "answered",
    ):
        assert activities[activity] > 0, activity


def test_the_invariant_check_catches_a_broken_case(city):
    play(services={"tax-clearance-certificate": 20})
    case = Case.objects.filter(status=CaseStatus.APPROVED).first()
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.OPEN)
    problems = case_invariants_check(case_ids=[case.pk])
    assert problems and problems[0].startswith(case.tracking_code)


def test_the_same_seed_gives_the_same_history(city):
    snapshots = []
    for _ in range(2):
        try:
            with transaction.atomic():
                play(seed=11)
                snapshots.append(history_snapshot())
                raise Rollback
        except Rollback:
            pass
    assert snapshots[0] == snapshots[1]
    assert snapshots[0][1]
    with transaction.atomic():
        play(seed=12)
        assert history_snapshot() != snapshots[0]
        transaction.set_rollback(True)


def test_the_fast_hash_is_the_engines_hash(city):
    play(services={"excavation-permit": 10})
    from pishkhan.cases.events import case_event_payload
    from pishkhan.core.hashchain import chain_hash

    for event in CaseEvent.objects.all()[:200]:
        assert event_hash(event) == chain_hash(event.prev_hash, case_event_payload(event)) == event.hash


def test_ground_truth_says_what_was_planted(city, tmp_path):
    path = tmp_path / "truth.json"
    report = play(truth_path=path)
    truth = json.loads(path.read_text(encoding="utf-8"))
    assert report.truth_path == path
    assert truth["seed"] == 7 and truth["services"] == MIX
    assert len(truth["slow_districts"]) == 3 and len(truth["slow_signatures"]) == 2
    assert {s["service"] for s in truth["slow_steps"]} == set(MIX)
    assert any(s["service"] == "building-permit" for s in truth["discretionary_steps"])
    steps = {(s["service"], s["step"]): s for s in truth["steps"]}
    assert steps and all(s["taken_up"] > 0 and s["observed_mean_wait_days"] >= 0 for s in steps.values())
    # A step planted slow waits at least its factor times the usual wait of its kind.
    for slow in truth["slow_steps"]:
        planted = steps.get((slow["service"], slow["step"]))
        if planted is not None:
            usual = BASE_WAIT_DAYS[planted["kind"]]
            assert planted["planted_mean_wait_days"] >= usual * slow["wait_factor"] * 0.99


def test_open_cases_sit_in_queues_and_some_are_overdue_today(city):
    report = play()
    assert report.open_steps == Position.objects.count() > 0
    assert Position.objects.filter(alert="overdue").exists()
    # Staff find the work and can act on it with the engine.
    position = Position.objects.filter(state="queued", role="revenue_clerk").select_related("case").first()
    holder = User.objects.filter(
        role_bindings__role__code="revenue_clerk", role_bindings__district=position.district
    ).first()
    assert position in queue_for(holder)
    case_claim(position=position, actor=holder)
    case_advance(case=position.case, step_id=position.step_id, outcome="approve", actor=holder)
    assert case_chains_verify() == []


def test_a_simulated_permit_is_rendered_on_first_download(city):
    play(services={"tax-clearance-certificate": 15})
    issued = IssuedDocument.objects.filter(file__isnull=True).first()
    assert issued is not None
    stored = issued_file_ensure(issued)
    assert stored.size > 1000
    assert IssuedDocument.objects.get(pk=issued.pk).file_id == stored.pk
    assert issued_file_ensure(IssuedDocument.objects.get(pk=issued.pk)).pk == stored.pk


def test_a_second_simulation_continues_the_city(city):
    play(services={"tax-clearance-certificate": 10})
    play(services={"tax-clearance-certificate": 10}, seed=8)
    assert Case.objects.count() == 20
    assert case_chains_verify() == [] and case_invariants_check() == []
