"""The steps diagram: the main path, parallel branches, steps off the path, and stages."""

from pishkhan.catalog.definition import Text, definition_from_dict
from pishkhan.portal.diagram import COLLAPSE_AFTER, STAGE_MAX, service_flow


def step(step_id, to=None, *, kind="review", role="clerk", days=1, **extra):
    data = {"id": step_id, "title": {"fa": step_id, "en": step_id.title()}, "role": role, "kind": kind}
    data |= {"deadline_days": days, "outcomes": [{"outcome": "approve", "to": to or "done"}]} | extra
    return data


def definition(steps, start=None):
    return definition_from_dict(
        {
            "code": "test",
            "title": {"fa": "آزمون"},
            "start": start or steps[0]["id"],
            "steps": [
                *steps,
                {"id": "done", "kind": "end", "result": "approved", "title": {"fa": "پایان", "en": "Done"}},
            ],
        }
    )


def flow_of(d, **kwargs):
    return service_flow(d, language="en", role_titles={"clerk": Text(fa="کارشناس", en="Clerk")}, **kwargs)


def test_the_main_path_follows_the_unconditional_forward_outcome_and_lists_the_others_apart():
    review = step("review", "sign")
    review["outcomes"] = [
        {"outcome": "approve", "to": "hearing", "when": "violation == true"},
        {"outcome": "approve", "to": "sign"},
        {"outcome": "return", "to": "review"},
    ]
    d = definition(
        [review, step("hearing", "sign", days=10, discretionary=True), step("sign", role="signatory")]
    )

    flow = flow_of(d)

    assert [box.id for box in flow.boxes] == ["review", "sign"]
    assert [box.id for box in flow.side] == ["hearing"]
    assert flow.side[0].discretionary
    assert flow.result == "Done"
    assert flow.boxes[0].role == "Clerk"
    assert flow.boxes[1].role == "signatory"  # a role the city has not named shows its code
    assert flow.step_count == 3


def test_a_fork_becomes_branches_side_by_side_and_the_path_goes_on_after_the_join():
    d = definition(
        [
            step("receive", "split"),
            {"id": "split", "kind": "fork", "branches": ["a1", "b1"]},
            step("a1", "a2"),
            step("a2", "merge", days=4),
            step("b1", "merge", days=2),
            {"id": "merge", "kind": "join", "join_of": "split", "next": "pay"},
            step("pay", kind="payment", days=3),
        ]
    )

    flow = flow_of(d)

    receive, parallel, pay = flow.items
    assert receive.id == "receive"
    assert parallel.is_parallel
    assert [[box.id for box in branch] for branch in parallel.branches] == [["a1", "a2"], ["b1"]]
    assert parallel.days == 5  # the slowest branch
    assert pay.citizen
    assert [box.number for box in flow.boxes] == [1, 2, 3, 4, 5]
    assert not flow.collapsed


def test_a_path_that_leads_nowhere_stops_instead_of_failing():
    d = definition([step("receive", "missing")])
    flow = flow_of(d)
    assert [box.id for box in flow.boxes] == ["receive"]
    assert flow.result == ""


def test_a_long_process_is_cut_into_stages_that_end_where_the_citizen_acts():
    steps = []
    for index in range(40):
        kind = "payment" if index in (9, 24) else "review"
        steps.append(step(f"s{index}", f"s{index + 1}" if index < 39 else "done", kind=kind))
    flow = flow_of(definition(steps))

    assert len(flow.boxes) == 40 > COLLAPSE_AFTER
    assert flow.collapsed
    sizes = [stage.steps for stage in flow.stages]
    assert sum(sizes) == 40
    assert max(sizes) <= STAGE_MAX
    assert flow.stages[0].citizen_step.id == "s9"
    assert flow.stages[1].citizen_step.id == "s24"
    assert flow.stages[0].days == 10


def test_a_run_without_citizen_steps_longer_than_a_stage_is_cut_into_even_parts():
    steps = [step(f"s{index}", f"s{index + 1}" if index < 49 else "done") for index in range(50)]
    flow = flow_of(definition(steps))

    assert [stage.steps for stage in flow.stages] == [17, 17, 16]
