from pishkhan.catalog.definition import definition_from_dict
from pishkhan.catalog.metrics import definition_metrics, longest_path_days, metrics_delta


def step(step_id, role="clerk", days=1, kind="review", to="done_end", **extra):
    outcomes = extra.pop("outcomes", None) or [{"outcome": "approve", "to": to}]
    return {"id": step_id, "role": role, "kind": kind, "deadline_days": days, "outcomes": outcomes, **extra}


def definition(steps, *, start=None, documents=()):
    return definition_from_dict(
        {
            "code": "test-process",
            "title": {"fa": "فرایند آزمایشی"},
            "start": start or steps[0]["id"],
            "documents": list(documents),
            "steps": [*steps, {"id": "done_end", "kind": "end", "result": "approved"}],
        }
    )


def parallel_reviews(traffic_days=3, utilities_days=5):
    return definition(
        [
            step("receive", days=2, to="reviews"),
            {"id": "reviews", "kind": "fork", "branches": ["traffic", "utilities"]},
            step("traffic", role="traffic_expert", days=traffic_days, to="reviews_done"),
            step("utilities", role="inspector", days=utilities_days, to="reviews_done"),
            {"id": "reviews_done", "kind": "join", "join_of": "reviews", "next": "sign"},
            step("sign", role="signatory", kind="signature", days=1),
        ]
    )


def test_a_straight_line_takes_the_sum_of_its_deadlines():
    d = definition([step("a", days=2, to="b"), step("b", days=3, to="c"), step("c", days=4)])
    assert longest_path_days(d) == 9


def test_parallel_branches_of_three_and_five_days_count_the_five():
    assert longest_path_days(parallel_reviews(3, 5)) == 2 + 5 + 1
    assert longest_path_days(parallel_reviews(7, 5)) == 2 + 7 + 1


def test_a_return_loop_and_a_reject_do_not_lengthen_the_path():
    d = definition(
        [
            step(
                "receive",
                days=2,
                outcomes=[
                    {"outcome": "approve", "to": "inspect"},
                    {"outcome": "return", "to": "receive"},
                    {"outcome": "reject", "to": "rejected"},
                ],
            ),
            step(
                "inspect",
                role="inspector",
                days=5,
                outcomes=[{"outcome": "done", "to": "done_end"}, {"outcome": "return", "to": "receive"}],
            ),
            {"id": "rejected", "kind": "end", "result": "rejected"},
        ]
    )
    assert longest_path_days(d) == 7


def test_a_refer_back_to_an_earlier_step_is_cut_not_followed_forever():
    d = definition(
        [
            step("receive", days=2, to="review"),
            step(
                "review",
                role="manager",
                days=3,
                outcomes=[{"outcome": "approve", "to": "done_end"}, {"outcome": "refer", "to": "receive"}],
            ),
        ]
    )
    assert longest_path_days(d) == 5


def test_the_longest_of_two_conditional_routes_counts():
    d = definition(
        [
            step(
                "receive",
                days=1,
                outcomes=[
                    {"outcome": "approve", "to": "quick", "when": "area < 100"},
                    {"outcome": "approve", "to": "slow"},
                ],
            ),
            step("quick", days=2),
            step("slow", role="inspector", days=10),
        ]
    )
    assert longest_path_days(d) == 11


def test_a_draft_with_no_reachable_end_still_gets_the_length_of_its_longest_walk():
    d = definition(
        [step("a", days=2, to="b"), step("b", days=3, outcomes=[{"outcome": "return", "to": "a"}])]
    )
    assert longest_path_days(d) == 5


def test_steps_discretionary_steps_and_signatures_are_counted_on_work_steps():
    d = definition(
        [
            step("receive", to="deputy"),
            step("deputy", role="signatory", kind="signature", discretionary=True, to="check"),
            step("check", role="manager", signature=True, discretionary=True, to="issue"),
            step("issue", kind="automatic", days=0, action="issue_document"),
        ],
        documents=[{"id": "deed", "title": {"fa": "سند"}, "formats": ["pdf"], "step": "receive"}],
    )
    m = definition_metrics(d)
    assert (m.steps, m.discretionary, m.signatures, m.documents, m.automatic_steps) == (4, 2, 2, 1, 1)
    assert m.roles_used == ("clerk", "manager", "signatory")


def test_handoffs_are_counted_between_different_roles_only():
    d = definition(
        [step("a", role="clerk", to="b"), step("b", role="clerk", to="c"), step("c", role="manager")]
    )
    assert definition_metrics(d).handoffs == 1


def test_handoffs_through_a_fork_and_a_join_count_from_the_step_before_to_the_step_after():
    # receive(clerk) → traffic(traffic_expert), receive → utilities(inspector), traffic → sign,
    # utilities → sign: four transitions, all between different roles.
    assert definition_metrics(parallel_reviews()).handoffs == 4


def test_two_outcomes_to_the_same_next_step_are_one_handoff_and_returns_are_none():
    d = definition(
        [
            step(
                "a",
                role="clerk",
                outcomes=[
                    {"outcome": "approve", "to": "b"},
                    {"outcome": "refer", "to": "b"},
                ],
            ),
            step(
                "b",
                role="manager",
                outcomes=[{"outcome": "done", "to": "done_end"}, {"outcome": "return", "to": "a"}],
            ),
        ]
    )
    assert definition_metrics(d).handoffs == 1


def test_metrics_delta_is_new_minus_old():
    old, new = definition_metrics(parallel_reviews(3, 5)), definition_metrics(parallel_reviews(3, 2))
    delta = metrics_delta(old, new)
    assert delta["longest_path_days"] == -2
    assert delta["steps"] == 0
