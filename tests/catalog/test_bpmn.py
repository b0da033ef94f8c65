"""BPMN 2.0 in and out: round trips, the diagram, files from Bizagi and Camunda, hostile input.

The fixtures under tests/catalog/bpmn/ are written by hand in the styles of the tools: Bizagi's
unprefixed (and re-declared) default namespace, vendor extensionElements, zero-size label bounds and
a file with no diagram at all; Camunda's `bpmn:` prefixes and `camunda:` attributes."""

import itertools
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from pishkhan.catalog import bpmn_import as bpmn_import_module
from pishkhan.catalog.bpmn import MAX_BYTES, PISHKHAN_NS, bpmn_export, bpmn_import
from pishkhan.catalog.bpmn_vocabulary import BPMN_NS, BPMNDI_NS, DC_NS, DI_NS, outcome_from_name
from pishkhan.catalog.definition import definition_from_dict, definition_to_dict
from pishkhan.catalog.expressions import expression_check
from pishkhan.catalog.loader import load_definition_file, load_yaml_text, schema_problems

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "bpmn"
BIZAGI = FIXTURES / "bizagi-no-violation-certificate.bpmn"
BIZAGI_NO_DIAGRAM = FIXTURES / "bizagi-complaint-no-diagram.bpmn"
CAMUNDA = FIXTURES / "camunda-excavation-permit.bpmn"
BANK_FILES = sorted((REPO / "processes").glob("*.yaml"))
LINT = REPO / "scripts" / "bpmn-lint.mjs"

B = f"{{{BPMN_NS}}}"
FLOW_NODES = {
    "startEvent", "endEvent", "task", "userTask", "serviceTask", "sendTask", "receiveTask", "manualTask",
    "scriptTask", "businessRuleTask", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "subProcess", "callActivity", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
}  # fmt: skip


# -- definitions to export -------------------------------------------------------------------------


def excavation_permit() -> dict:
    """A small service with everything export must carry: a declared role, a return loop, a reject
    end, parallel reviews, a conditional outcome with a label, an automatic issue step."""
    return {
        "schema": "pishkhan/process/1",
        "code": "excavation-permit",
        "version": 1,
        "title": {"fa": "مجوز حفاری", "en": "Excavation permit"},
        "roles": [
            {"code": "traffic_expert", "title": {"fa": "کارشناس ترافیک", "en": "Traffic expert"}},
            {"code": "utilities_expert", "title": {"fa": "کارشناس تاسیسات"}},
        ],
        "legal_deadline_days": 30,
        "start": "receive",
        "documents": [
            {"id": "site_plan", "title": {"fa": "کروکی محل"}, "formats": ["pdf"], "step": "receive"}
        ],
        "fields": [
            {
                "id": "length_m",
                "type": "number",
                "label": {"fa": "طول حفاری (متر)"},
                "required": True,
                "min": 1,
            },
        ],
        "fees": [
            {
                "id": "restoration",
                "title": {"fa": "هزینه ترمیم"},
                "amount": "length_m * 4500000",
                "step": "pay",
            }
        ],
        "steps": [
            {
                "id": "receive",
                "title": {"fa": "دریافت و بررسی مدارک", "en": "Receive and check documents"},
                "role": "clerk",
                "kind": "review",
                "deadline_days": 2,
                "legal_basis": {"law": "آیین‌نامه حفاری", "article": "ماده ۴"},
                "outcomes": [
                    {"outcome": "approve", "to": "reviews"},
                    {"outcome": "return", "to": "receive"},
                    {"outcome": "reject", "to": "rejected"},
                ],
            },
            {"id": "reviews", "kind": "fork", "branches": ["traffic_review", "utilities_review"]},
            {
                "id": "traffic_review",
                "title": {"fa": "بررسی ترافیکی"},
                "role": "traffic_expert",
                "kind": "review",
                "deadline_days": 3,
                "outcomes": [{"outcome": "approve", "to": "reviews_done"}],
            },
            {
                "id": "utilities_review",
                "title": {"fa": "بازدید تاسیسات"},
                "role": "utilities_expert",
                "kind": "inspection",
                "deadline_days": 4.5,
                "discretionary": True,
                "outcomes": [{"outcome": "done", "to": "reviews_done"}],
            },
            {"id": "reviews_done", "kind": "join", "join_of": "reviews", "next": "pay"},
            {
                "id": "pay",
                "title": {"fa": "پرداخت هزینه ترمیم"},
                "role": "clerk",
                "kind": "payment",
                "deadline_days": 5,
                "outcomes": [
                    {"outcome": "done", "to": "sign", "when": "length_m > 100"},
                    {
                        "outcome": "done",
                        "to": "issue_permit",
                        "label": {"fa": "حفاری کوچک", "en": "Small dig"},
                    },
                ],
            },
            {
                "id": "sign",
                "title": {"fa": "امضای معاون"},
                "role": "signatory",
                "kind": "signature",
                "deadline_days": 1,
                "signature": True,
                "outcomes": [
                    {"outcome": "approve", "to": "issue_permit"},
                    {"outcome": "reject", "to": "rejected"},
                ],
            },
            {
                "id": "issue_permit",
                "title": {"fa": "صدور مجوز"},
                "role": "clerk",
                "kind": "automatic",
                "action": "issue_document",
                "output": "permit",
                "deadline_days": 1,
                "outcomes": [{"outcome": "done", "to": "notify_applicant"}],
            },
            {
                "id": "notify_applicant",
                "title": {"fa": "پیامک به متقاضی"},
                "role": "clerk",
                "kind": "automatic",
                "action": "notify",
                "deadline_days": 0.5,
                "outcomes": [{"outcome": "done", "to": "issued"}],
            },
            {"id": "issued", "kind": "end", "result": "approved", "title": {"fa": "مجوز صادر شد"}},
            {"id": "rejected", "kind": "end", "result": "rejected", "title": {"fa": "رد شد"}},
        ],
        "outputs": [{"id": "permit", "kind": "permit", "title": {"fa": "مجوز حفاری"}}],
    }


def long_permit(work_steps: int = 129) -> dict:
    """A building-permit-sized process: `work_steps` steps over eight roles, returns and rejects all
    along, and a pair of parallel reviews every twenty steps."""
    roles = ["clerk", "inspector", "signatory", "manager", "planner", "surveyor", "lawyer", "cashier"]
    steps: list[dict] = []
    ids = [f"step_{n:03d}" for n in range(work_steps)]
    index = 0
    while index < work_steps:
        step_id = ids[index]
        following = ids[index + 1] if index + 1 < work_steps else "issued"
        if index % 20 == 10 and index + 3 < work_steps:
            fork, join = f"fork_{index}", f"join_{index}"
            steps[-1]["outcomes"][0]["to"] = fork
            branches = [ids[index], ids[index + 1]]
            steps.append({"id": fork, "kind": "fork", "branches": branches})
            for branch in branches:
                steps.append(
                    {"id": branch, "role": roles[(index + len(steps)) % 8], "kind": "review", "deadline_days": 2,
                     "title": {"fa": f"بررسی موازی {branch}"}, "outcomes": [{"outcome": "approve", "to": join}]}
                )  # fmt: skip
            steps.append({"id": join, "kind": "join", "join_of": fork, "next": ids[index + 2]})
            index += 2
            continue
        outcomes = [{"outcome": "approve", "to": following}]
        if index % 5 == 3:
            outcomes.append({"outcome": "return", "to": ids[max(0, index - 2)]})
        if index % 7 == 6:
            outcomes.append({"outcome": "reject", "to": "rejected"})
        steps.append(
            {"id": step_id, "role": roles[index % 8], "kind": "signature" if index % 9 == 8 else "review",
             "deadline_days": 1 + index % 4, "title": {"fa": f"مرحله {index + 1}"}, "outcomes": outcomes}
        )  # fmt: skip
        index += 1
    steps += [
        {"id": "issued", "kind": "end", "result": "approved", "title": {"fa": "پروانه صادر شد"}},
        {"id": "rejected", "kind": "end", "result": "rejected", "title": {"fa": "رد شد"}},
    ]
    return {
        "schema": "pishkhan/process/1",
        "code": "long-permit",
        "version": 1,
        "title": {"fa": "پروانه ساختمانی (آزمایشی)"},
        "roles": [
            {"code": code, "title": {"fa": code}} for code in ("planner", "surveyor", "lawyer", "cashier")
        ],
        "start": ids[0],
        "steps": steps,
    }


def bank_definition(path: Path):
    data, _lines, problems = load_yaml_text(path.read_text(encoding="utf-8"), filename=str(path))
    assert data is not None, [str(p) for p in problems]
    return definition_from_dict(data)


def what_bpmn_keeps(definition) -> dict:
    """All of a definition but its version and status: an import is always a new draft."""
    data = definition_to_dict(definition)
    return {key: value for key, value in data.items() if key not in ("version", "status")}


def round_trip(definition, *, language: str = "fa"):
    result = bpmn_import(bpmn_export(definition, language=language).encode("utf-8"), filename="export.bpmn")
    assert result.ok, [str(p) for p in result.problems]
    assert result.problems == [] and result.unmapped == []
    return definition_from_dict(result.data)


BANK = [pytest.param(path, id=path.name) for path in BANK_FILES] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no process files under processes/ yet"))
]


# -- round trips -----------------------------------------------------------------------------------


def test_a_service_comes_back_from_bpmn_with_the_same_steps_roles_and_outcomes():
    original = definition_from_dict(excavation_permit())
    back = round_trip(original)
    assert what_bpmn_keeps(back) == what_bpmn_keeps(original)
    pay = back.step("pay")
    assert [(o.outcome, o.to, o.when) for o in pay.outcomes] == [
        ("done", "sign", "length_m > 100"),
        ("done", "issue_permit", ""),
    ]
    assert pay.outcomes[1].label.en == "Small dig"
    assert back.step("reviews_done").join_of == "reviews"
    assert back.step("issue_permit").action == "issue_document"
    assert back.step("utilities_review").deadline_days == 4.5


def test_the_round_trip_is_the_same_when_the_names_are_written_in_english():
    original = definition_from_dict(excavation_permit())
    xml = bpmn_export(original, language="en")
    assert 'name="Receive and check documents"' in xml
    assert what_bpmn_keeps(round_trip(original, language="en")) == what_bpmn_keeps(original)


@pytest.mark.parametrize("path", BANK)
def test_every_process_of_the_bank_comes_back_from_bpmn_unchanged(path):
    original = bank_definition(path)
    assert what_bpmn_keeps(round_trip(original)) == what_bpmn_keeps(original)


def test_a_129_step_process_comes_back_unchanged():
    original = definition_from_dict(long_permit())
    assert len(original.work_steps) == 129
    assert what_bpmn_keeps(round_trip(original)) == what_bpmn_keeps(original)


# -- the diagram -----------------------------------------------------------------------------------


def diagram(xml: str) -> dict:
    root = etree.fromstring(xml.encode("utf-8"))
    bounds = {}
    for shape in root.iter(f"{{{BPMNDI_NS}}}BPMNShape"):
        box = shape.find(f"{{{DC_NS}}}Bounds")
        bounds[shape.get("bpmnElement")] = tuple(float(box.get(k)) for k in ("x", "y", "width", "height"))
    edges = {
        edge.get("bpmnElement"): [
            (float(p.get("x")), float(p.get("y"))) for p in edge.iter(f"{{{DI_NS}}}waypoint")
        ]
        for edge in root.iter(f"{{{BPMNDI_NS}}}BPMNEdge")
    }
    process = root.find(f"{B}process")
    nodes = [e for e in process if etree.QName(e).localname in FLOW_NODES]
    flows = process.findall(f"{B}sequenceFlow")
    lanes = {
        lane.get("id"): [ref.text for ref in lane.findall(f"{B}flowNodeRef")]
        for lane in process.iter(f"{B}lane")
    }
    plane = root.find(f"{{{BPMNDI_NS}}}BPMNDiagram/{{{BPMNDI_NS}}}BPMNPlane")
    shapes = {s.get("bpmnElement"): s for s in root.iter(f"{{{BPMNDI_NS}}}BPMNShape")}
    return {
        "root": root, "bounds": bounds, "edges": edges, "nodes": nodes, "flows": flows, "lanes": lanes,
        "plane": plane, "shapes": shapes,
    }  # fmt: skip


def overlaps(a, b) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


def inside(inner, outer) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and inner[0] + inner[2] <= outer[0] + outer[2]
        and inner[1] + inner[3] <= outer[1] + outer[3]
    )


def crosses(a, b, box) -> bool:
    """An orthogonal segment a–b passes through the inside of a box (touching its border is fine)."""
    left, top, width, height = box
    low_x, high_x, low_y, high_y = min(a[0], b[0]), max(a[0], b[0]), min(a[1], b[1]), max(a[1], b[1])
    return low_x < left + width and left < high_x and low_y < top + height and top < high_y


def on_border(point, box) -> bool:
    x, y = point
    left, top, width, height = box
    within_x, within_y = left - 1 <= x <= left + width + 1, top - 1 <= y <= top + height + 1
    on_vertical = abs(x - left) <= 1 or abs(x - left - width) <= 1
    on_horizontal = abs(y - top) <= 1 or abs(y - top - height) <= 1
    return within_x and within_y and (on_vertical or on_horizontal)


def assert_diagram_is_complete_and_tidy(xml: str) -> None:
    d = diagram(xml)
    collaboration = d["root"].find(f"{B}collaboration")
    participant = collaboration.find(f"{B}participant")
    assert d["plane"].get("bpmnElement") == collaboration.get("id")
    assert d["shapes"][participant.get("id")].get("isHorizontal") == "true"
    for lane_id in d["lanes"]:
        assert d["shapes"][lane_id].get("isHorizontal") == "true"
        assert inside(d["bounds"][lane_id], d["bounds"][participant.get("id")])
    node_ids = [node.get("id") for node in d["nodes"]]
    assert set(node_ids) <= set(d["bounds"]), "every flow node has a shape"
    assert {flow.get("id") for flow in d["flows"]} <= set(d["edges"]), "every sequence flow has an edge"
    boxes = [d["bounds"][node_id] for node_id in node_ids]
    for i, box in enumerate(boxes):
        assert box[2] > 0 and box[3] > 0
        for j in range(i + 1, len(boxes)):
            assert not overlaps(box, boxes[j]), f"{node_ids[i]} overlaps {node_ids[j]}"
    for lane_id, refs in d["lanes"].items():
        for ref in refs:
            assert inside(d["bounds"][ref], d["bounds"][lane_id]), (
                f"{ref} is drawn outside its lane {lane_id}"
            )
    assert sorted(ref for refs in d["lanes"].values() for ref in refs) == sorted(node_ids), (
        "one lane per node"
    )
    for flow in d["flows"]:
        points = d["edges"][flow.get("id")]
        assert len(points) >= 2
        assert on_border(points[0], d["bounds"][flow.get("sourceRef")])
        assert on_border(points[-1], d["bounds"][flow.get("targetRef")])
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            assert x1 == x2 or y1 == y2, "edges run horizontally and vertically"
            for node_id, box in zip(node_ids, boxes, strict=True):
                if node_id not in ends:
                    assert not crosses((x1, y1), (x2, y2), box), f"{flow.get('id')} runs through {node_id}"


def test_an_export_draws_the_participant_every_lane_every_node_and_every_flow():
    xml = bpmn_export(definition_from_dict(excavation_permit()))
    assert_diagram_is_complete_and_tidy(xml)
    d = diagram(xml)
    assert set(d["lanes"]) == {"Lane_clerk", "Lane_traffic_expert", "Lane_utilities_expert", "Lane_signatory"}
    assert d["root"].find(f"{B}process/{B}userTask[@id='pay']").get(f"{{{PISHKHAN_NS}}}kind") == "payment"
    assert d["root"].find(f"{B}process/{B}sendTask[@id='notify_applicant']") is not None
    assert d["root"].find(f"{B}process/{B}exclusiveGateway[@id='Gateway_receive']") is not None
    assert len(d["root"].findall(f"{B}process/{B}parallelGateway")) == 2


def test_a_return_loop_is_drawn_back_below_the_row_not_through_the_shapes():
    xml = bpmn_export(definition_from_dict(excavation_permit()))
    d = diagram(xml)
    loop = next(
        f for f in d["flows"] if f.get("sourceRef") == "Gateway_receive" and f.get("targetRef") == "receive"
    )
    points = d["edges"][loop.get("id")]
    receive = d["bounds"]["receive"]
    assert max(y for _x, y in points) > receive[1] + receive[3], "the loop runs below the task it returns to"


def test_a_129_step_process_is_long_but_laid_out_without_overlaps():
    xml = bpmn_export(definition_from_dict(long_permit()))
    assert_diagram_is_complete_and_tidy(xml)
    pool = diagram(xml)["bounds"]["Participant_1"]
    assert pool[2] < 200 * 200, "one column per rank, not one per step and gateway twice over"


@pytest.mark.parametrize("path", BANK)
def test_every_process_of_the_bank_exports_a_tidy_diagram(path):
    assert_diagram_is_complete_and_tidy(bpmn_export(bank_definition(path)))


# -- bpmn-moddle -----------------------------------------------------------------------------------


def require_bpmn_moddle() -> None:
    missing = shutil.which("node") is None or not (REPO / "node_modules" / "bpmn-moddle").is_dir()
    if missing:
        reason = "bpmn-moddle is not installed (node and `npm ci` are needed to lint BPMN exports)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason + "; in CI this test fails instead")


def bpmn_lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["node", str(LINT), *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=REPO,
    )


def test_exports_open_in_bpmn_moddle_without_a_single_warning(tmp_path):
    require_bpmn_moddle()
    definitions = {
        "excavation-fa": (definition_from_dict(excavation_permit()), "fa"),
        "excavation-en": (definition_from_dict(excavation_permit()), "en"),
        "long-permit": (definition_from_dict(long_permit()), "fa"),
    }
    for path in BANK_FILES:
        definitions[path.stem] = (bank_definition(path), "fa")
    files = []
    for name, (definition, language) in definitions.items():
        files.append(tmp_path / f"{name}.bpmn")
        files[-1].write_text(bpmn_export(definition, language=language), encoding="utf-8")
    result = bpmn_lint(*files, CAMUNDA)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_the_lint_fails_a_file_that_bpmn_js_could_not_draw(tmp_path):
    require_bpmn_moddle()
    without_diagram = bpmn_lint(BIZAGI_NO_DIAGRAM)
    assert without_diagram.returncode == 1
    assert "no bpmndi:BPMNDiagram" in without_diagram.stdout
    # Drop one edge and one shape from a good export: both are named.
    root = etree.fromstring(bpmn_export(definition_from_dict(excavation_permit())).encode("utf-8"))
    plane = root.find(f"{{{BPMNDI_NS}}}BPMNDiagram/{{{BPMNDI_NS}}}BPMNPlane")
    plane.remove(plane.find(f"{{{BPMNDI_NS}}}BPMNEdge[@bpmnElement='Flow_1']"))
    plane.remove(plane.find(f"{{{BPMNDI_NS}}}BPMNShape[@bpmnElement='sign']"))
    broken = tmp_path / "broken.bpmn"
    broken.write_bytes(etree.tostring(root))
    result = bpmn_lint(broken)
    assert result.returncode == 1
    assert 'bpmn:SequenceFlow "Flow_1" has no BPMNEdge' in result.stdout
    assert 'bpmn:UserTask "sign" has no BPMNShape' in result.stdout
    # An unknown BPMN element is only a warning for bpmn-moddle; for us it fails.
    bogus = tmp_path / "bogus.bpmn"
    bogus.write_text(
        bpmn_export(definition_from_dict(excavation_permit())).replace(
            '<bpmn:startEvent id="StartEvent_1"', '<bpmn:nonsense id="X"/><bpmn:startEvent id="StartEvent_1"'
        ),
        encoding="utf-8",
    )
    result = bpmn_lint(bogus)
    assert result.returncode == 1
    assert "unparsable content <bpmn:nonsense>" in result.stdout


# -- files from modelling tools --------------------------------------------------------------------


def steps_by_title(result) -> dict:
    return {step.get("title", {}).get("fa"): step for step in result.data["steps"]}


def test_a_bizagi_file_maps_its_tasks_lanes_gateways_and_timer():
    result = bpmn_import(BIZAGI.read_bytes(), filename=BIZAGI.name)
    assert result.ok, [str(p) for p in result.problems]
    data = result.data
    assert data["title"] == {"fa": "صدور گواهی عدم خلاف"}  # the pool's name, not "Main Process"
    assert data["description"]["fa"].startswith("گواهی عدم خلاف")
    assert data["status"] == "draft" and data["version"] == 1
    assert data["roles"] == [{"code": "karshnas_shhrsazy", "title": {"fa": "کارشناس شهرسازی"}}]
    steps = steps_by_title(result)
    check = steps["Check documents"]
    assert check["id"] == "check_documents" and check["role"] == "clerk"
    assert [(o["outcome"], o["to"]) for o in check["outcomes"]] == [
        ("approve", steps["بازدید از ملک"]["id"]),
        ("reject", steps["درخواست رد شد"]["id"]),
    ]
    visit = steps["بازدید از ملک"]
    assert (visit["role"], visit["kind"], visit["deadline_days"]) == (
        "inspector",
        "inspection",
        7,
    )  # timer P1W
    report = steps["تهیه گزارش بازدید"]  # the sub-process, kept as one step so the flow stays whole
    assert report["kind"] == "review" and report["outcomes"][0]["to"] == steps["تطبیق بنا با پروانه"]["id"]
    compare = steps["تطبیق بنا با پروانه"]
    assert compare["role"] == "karshnas_shhrsazy"
    assert compare["outcomes"][0] == {
        "outcome": "approve",
        "to": steps["صدور گواهی"]["id"],
        "when": "violations == 0",
        "label": {"fa": "بدون خلاف"},
    }
    assert compare["outcomes"][1]["outcome"] == "refer"  # "ارجاع به کمیسیون", past the throw event
    assert compare["outcomes"][1]["to"] == steps["پرونده در کمیسیون ماده ۱۰۰"]["id"]
    issue = steps["صدور گواهی"]
    assert (issue["kind"], issue["action"]) == ("automatic", "issue_document")
    assert data["outputs"] == [{"id": issue["output"], "kind": "certificate", "title": {"fa": "صدور گواهی"}}]
    assert steps["درخواست رد شد"]["result"] == "rejected"
    assert data["start"] == steps["ثبت درخواست در پیشخوان"]["id"]
    assert len(result.steps_found) == 6 and "check_documents" in result.steps_found
    assert result.roles_found == ["clerk", "inspector", "karshnas_shhrsazy"]
    assert schema_problems(data, format_name="pishkhan/process/1") == []


def test_what_a_bizagi_file_holds_beyond_the_format_is_listed_with_its_line():
    result = bpmn_import(BIZAGI.read_bytes(), filename=BIZAGI.name)
    unmapped = "\n".join(result.unmapped)
    assert 'subProcess "Id_6c0e2a4b-9d1f-4b3c-8e5a-7f8b9c0d1e2f" (line 138)' in unmapped
    assert 'intermediateThrowEvent "Id_a04c6e8f-3b5d-4f7a-8c9e-1d2f3a4b5c6d" (line 158)' in unmapped
    assert 'dataObject "Id_d37f9b1c-6e8a-4c0d-9f2b-4a5c6d7e8f9a" (line 173)' in unmapped
    assert 'textAnnotation "Id_e48a0c2d' in unmapped and 'association "Id_f59b1d3e' in unmapped
    assert "ioSpecification" in unmapped
    assert "http://www.bizagi.com/bpmn20" in unmapped  # the vendor extensions, in one line
    # Every guess is a warning with its line: the end event that says no result, the dropped condition.
    messages = {(p.line, p.severity): str(p.message) for p in result.problems}
    assert "read as `approved`" in messages[(163, "warning")]
    assert "is not CEL" in messages[(189, "warning")]
    assert all(p.severity == "warning" and p.file == BIZAGI.name for p in result.problems)


def test_a_bizagi_file_without_a_diagram_is_imported_with_nested_lanes_and_loose_gateways():
    result = bpmn_import(BIZAGI_NO_DIAGRAM.read_bytes(), filename=BIZAGI_NO_DIAGRAM.name)
    assert result.ok, [str(p) for p in result.problems]
    data = result.data
    assert data["title"] == {"fa": "رسیدگی به شکایت شهروندان"}
    assert data["roles"] == [{"code": "operator", "title": {"fa": "Operator"}}]  # the parent lane is no role
    steps = steps_by_title(result)
    assert steps["ثبت شکایت"]["role"] == "operator"
    assert steps["بررسی کارشناسی"]["role"] == "clerk"
    assert steps["بازبینی مدیر"]["role"] == "manager"
    assert steps["ثبت در سامانه ۱۳۷"]["role"] == "clerk"  # in no lane: reported
    fork = next(s for s in data["steps"] if s["kind"] == "fork")
    join = next(s for s in data["steps"] if s["kind"] == "join")
    assert fork["branches"] == [steps["بررسی کارشناسی"]["id"], steps["استعلام از منطقه"]["id"]]
    assert join["join_of"] == fork["id"] and join["next"] == steps["پاسخ به شهروند"]["id"]
    # The merge gateway after the join is walked through: the manager's path meets the answer step.
    assert steps["ارسال به مدیر مربوط"]["outcomes"] == [
        {"outcome": "done", "to": steps["پاسخ به شهروند"]["id"]}
    ]
    answer = steps["پاسخ به شهروند"]["outcomes"]  # past the timer, through the inclusive gateway
    assert [o["to"] for o in answer] == [steps["شکایت بسته شد"]["id"], steps["بازبینی مدیر"]["id"]]
    assert answer[1]["when"] == "satisfaction < 3"
    review = steps["بازبینی مدیر"]["outcomes"]
    assert [o["outcome"] for o in review] == ["approve", "return"]
    unmapped = "\n".join(result.unmapped)
    for kind in ("inclusiveGateway", "intermediateCatchEvent", "callActivity"):
        assert f"{kind} " in unmapped
    assert any("in no lane" in str(p.message) for p in result.problems)
    assert any("without a gateway" in str(p.message) for p in result.problems)
    assert schema_problems(data, format_name="pishkhan/process/1") == []


def test_a_camunda_file_maps_its_tasks_lanes_gateways_and_conditions():
    result = bpmn_import(CAMUNDA.read_bytes(), filename=CAMUNDA.name)
    assert result.ok, [str(p) for p in result.problems]
    data = result.data
    assert data["code"] == "excavation-permit"  # from the process id Process_excavation_permit
    assert data["title"] == {"fa": "مجوز حفاری معابر"}
    assert data["roles"] == [{"code": "karshnas_trafyk", "title": {"fa": "کارشناس ترافیک"}}]
    steps = steps_by_title(result)
    check = steps["بررسی مدارک"]
    assert check["id"] == "check_documents"  # a readable id the modeller chose is kept
    assert [(o["outcome"], o.get("when")) for o in check["outcomes"]] == [
        ("approve", None),
        ("return", "!complete"),  # `${!complete}` unwrapped
        ("reject", None),  # its JUEL condition is no CEL: dropped and reported
    ]
    assert "label" not in check["outcomes"][2]  # "reject/رد" only names the outcome
    fix = steps["رفع نقص توسط متقاضی"]
    assert fix["kind"] == "citizen" and fix["outcomes"] == [{"outcome": "done", "to": "check_documents"}]
    traffic = steps["بررسی ترافیکی"]
    assert (traffic["role"], traffic["deadline_days"]) == ("karshnas_trafyk", 3)  # timer P3D
    assert steps["بازدید محل حفاری"]["kind"] == "inspection"
    assert steps["امضای معاون شهرسازی"]["kind"] == "signature"
    assert steps["امضای معاون شهرسازی"]["role"] == "signatory"  # the lane "Signatory"
    assert steps["پرداخت هزینه ترمیم"]["kind"] == "payment"
    assert steps["محاسبه هزینه ترمیم"]["action"] == "integration"  # a business-rule task
    assert steps["ارسال پیامک به متقاضی"]["action"] == "notify"  # a send task
    size = steps["محاسبه هزینه ترمیم"]["outcomes"]
    assert [(o["to"], o.get("when")) for o in size] == [
        (steps["امضای معاون شهرسازی"]["id"], "length_m > 100"),
        (steps["پرداخت هزینه ترمیم"]["id"], None),
    ]
    fork = next(s for s in data["steps"] if s["kind"] == "fork")
    assert fork["branches"] == [traffic["id"], steps["بازدید محل حفاری"]["id"]]
    unmapped = "\n".join(result.unmapped)
    for expected in ('messageFlow "Flow_msg_request" (line 6)', 'participant "Participant_1citizen" (line 5)',
                     'dataStoreReference "DataStoreReference_0gis"', 'sequenceFlow "Flow_0remind"',
                     "http://camunda.org/schema/1.0/bpmn", "camunda:assignee"):  # fmt: skip
        assert expected in unmapped
    messages = [str(p.message) for p in result.problems]
    assert any("read as the CEL expression 'length_m > 100'" in m for m in messages)
    assert any("is not CEL" in m and "Flow_0reject" in m for m in messages)
    assert schema_problems(data, format_name="pishkhan/process/1") == []


def test_a_foreign_file_gets_a_form_field_for_each_name_its_conditions_read():
    fields = bpmn_import(CAMUNDA.read_bytes()).data["fields"]
    assert fields == [
        {"id": "complete", "type": "boolean", "label": {"fa": "complete"}},  # `${!complete}`
        {"id": "length_m", "type": "number", "label": {"fa": "length_m"}},  # `${length_m > 100}`
    ]


def test_imported_files_pass_the_loader_and_the_validator_like_yaml_files():
    for path in (BIZAGI, BIZAGI_NO_DIAGRAM, CAMUNDA):
        loaded = load_definition_file(path)
        assert loaded.ok, [str(p) for p in loaded.problems if p.severity == "error"]
        assert loaded.definition is not None


def test_a_damaged_pishkhan_part_is_reported_and_the_diagram_still_read():
    xml = bpmn_export(definition_from_dict(excavation_permit()))
    start = xml.index("<pishkhan:definition")
    end = xml.index("</pishkhan:definition>")
    damaged = xml[:start] + '<pishkhan:definition format="pishkhan/process/1">{"fields": [' + xml[end:]
    result = bpmn_import(damaged.encode("utf-8"))
    assert any("damaged" in str(p.message) for p in result.problems)
    assert result.data["steps"] == definition_to_dict(definition_from_dict(excavation_permit()))["steps"]
    assert "fees" not in result.data


def test_the_code_given_on_the_command_line_wins_over_the_file():
    result = bpmn_import(CAMUNDA.read_bytes(), code="street-digging")
    assert result.data["code"] == "street-digging"
    assert not any("service code" in str(p.message) for p in result.problems)


def test_the_report_lines_name_counts_problems_and_unmapped_elements():
    lines = bpmn_import(CAMUNDA.read_bytes(), filename="permit.bpmn").lines()
    assert lines[0].startswith("9 ") and "3" in lines[0]
    assert any(line.startswith("warning: permit.bpmn:") for line in lines)
    assert any("messageFlow" in line for line in lines)


@pytest.mark.parametrize(
    ("name", "outcome"),
    [
        ("approve/تایید", "approve"),
        ("تأیید شد", "approve"),
        ("Yes", "approve"),
        ("reject/رد", "reject"),
        ("عدم تأیید", "reject"),
        ("عدم\u200cتایید", "reject"),
        ("return/بازگشت", "return"),
        ("نقص مدارک", "return"),
        ("refer/ارجاع", "refer"),
        ("ارجاع به کمیسیون", "refer"),
        ("done/انجام شد", "done"),
        ("امضاها کامل", ""),
        ("note", ""),
        ("", ""),
    ],
)
def test_flow_names_in_persian_or_english_say_the_outcome(name, outcome):
    assert outcome_from_name(name) == outcome


# -- hostile and broken input ----------------------------------------------------------------------

MINIMAL = (
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">'
    '<process id="p"><startEvent id="s"/><task id="a" name="A"/><endEvent id="e"/>'
    '<sequenceFlow id="f1" sourceRef="s" targetRef="a"/><sequenceFlow id="f2" sourceRef="a" targetRef="%s"/>'
    "</process></definitions>"
)
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p" name="&lol9;"/></definitions>"""
HOSTILE = {
    "not XML": b"Process: building permit\nSteps: 129\n",
    "a PNG": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
    "truncated": CAMUNDA.read_bytes()[: len(CAMUNDA.read_bytes()) // 2],
    "billion laughs": BILLION_LAUGHS,
    "a DOCTYPE at all": b"<!DOCTYPE definitions>" + (MINIMAL % "e").encode(),
    "a DOCTYPE in UTF-16": (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY x "y">]>' + MINIMAL % "e"
    ).encode("utf-16"),
    "wrong root": b"<html><body><p>not a process</p></body></html>",
    "definitions in another namespace": b'<definitions xmlns="http://example.com/not-bpmn"><process id="p"/></definitions>',
    "no process": b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><collaboration id="c"/></definitions>',
    "an empty process": b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"><process id="p"/></definitions>',
    "a flow to a missing node": (MINIMAL % "nowhere").encode(),
    "5 MB of junk": random.Random(5).randbytes(5 * 1024 * 1024),
    "more than the size limit": b"<a>" + b" " * MAX_BYTES + b"</a>",
    "empty": b"",
    "deeply nested": b"<a>" * 50_000 + b"</a>" * 50_000,
    "not bytes": 42,
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_malformed_or_hostile_bpmn_is_reported_never_raised(data):
    result = bpmn_import(data, filename="upload.bpmn")
    assert result.errors, "every one of these is an error"
    assert all(p.file == "upload.bpmn" and str(p.message) for p in result.problems)
    assert not result.ok


def test_a_flow_to_a_missing_node_is_reported_with_its_line():
    result = bpmn_import(
        (MINIMAL % "nowhere").replace('<sequenceFlow id="f2"', '\n<sequenceFlow id="f2"').encode()
    )
    (error,) = result.errors
    assert error.line == 2 and "nowhere" in str(error.message) and error.path == "sequenceFlow#f2"


def gateway_lattice(layers: int) -> bytes:
    """Two exclusive gateways per layer, each leading to both of the next layer's: 2**layers paths."""
    flows = [
        '<sequenceFlow id="f_s" sourceRef="s" targetRef="t"/><sequenceFlow id="f_t" sourceRef="t" targetRef="g0_0"/>'
    ]
    for layer in range(layers):
        for k in range(2):
            flows.append(f'<exclusiveGateway id="g{layer}_{k}"/>')
            for j in range(2):
                target = f"g{layer + 1}_{j}" if layer + 1 < layers else "e"
                flows.append(
                    f'<sequenceFlow id="f{layer}_{k}_{j}" sourceRef="g{layer}_{k}" targetRef="{target}"/>'
                )
    body = '<startEvent id="s"/><task id="t"/><endEvent id="e"/>' + "".join(flows)
    return f'<definitions xmlns="{BPMN_NS}"><process id="p">{body}</process></definitions>'.encode()


def event_chain(length: int) -> bytes:
    parts = [
        '<startEvent id="s"/><task id="t"/><endEvent id="e"/>',
        '<sequenceFlow id="f_s" sourceRef="s" targetRef="t"/>',
    ]
    parts.append('<sequenceFlow id="f_t" sourceRef="t" targetRef="i0"/>')
    for n in range(length):
        target = f"i{n + 1}" if n + 1 < length else "e"
        parts.append(
            f'<intermediateThrowEvent id="i{n}"/><sequenceFlow id="f{n}" sourceRef="i{n}" targetRef="{target}"/>'
        )
    return f'<definitions xmlns="{BPMN_NS}"><process id="p">{"".join(parts)}</process></definitions>'.encode()


def test_a_process_built_to_have_exponentially_many_paths_costs_an_error_not_hours():
    result = bpmn_import(gateway_lattice(60))  # 2**60 paths from the task to the end
    assert result.data is None
    assert "too many paths" in str(result.errors[0].message)
    assert bpmn_import(gateway_lattice(4)).ok  # sixteen paths are fine


def test_thousands_of_events_in_a_row_are_reported_not_a_recursion_crash():
    result = bpmn_import(event_chain(5000))
    assert result.data is None and "too many gateways and events" in str(result.errors[0].message)
    assert bpmn_import(event_chain(20)).ok


def test_an_external_entity_is_never_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-PASSWORD", encoding="utf-8")
    for target in (secret.as_uri(), "file:///etc/passwd"):
        xxe = (
            f'<?xml version="1.0"?><!DOCTYPE definitions [<!ENTITY x SYSTEM "{target}">]>'
            '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">'
            '<process id="p" name="&x;"><task id="t" name="&x;"/></process></definitions>'
        ).encode()
        result = bpmn_import(xxe)
        assert result.data is None and result.errors
        assert "DOCTYPE" in str(result.errors[0].message)
        assert "TOP-SECRET" not in repr(result) and "root:" not in repr(result)


def test_a_bug_in_the_importer_becomes_a_problem_not_a_crash(monkeypatch):
    def broken(self, data):
        raise RuntimeError("bug")

    monkeypatch.setattr(bpmn_import_module._Reader, "read", broken)
    result = bpmn_import(CAMUNDA.read_bytes(), filename="x.bpmn")
    assert result.data is None
    assert "RuntimeError" in str(result.errors[0].message)


SEEDS = [BIZAGI.read_bytes(), BIZAGI_NO_DIAGRAM.read_bytes(), CAMUNDA.read_bytes()]


@pytest.fixture(autouse=True, scope="module")
def _cel_ready():
    """Build cel-python's environment before Hypothesis runs: building it raises the recursion
    limit, which Hypothesis reports (as an error, here) when it happens inside a test."""
    expression_check("true")


def seeds_with_an_export() -> list[bytes]:
    return [*SEEDS, bpmn_export(definition_from_dict(excavation_permit())).encode("utf-8")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_make_the_importer_raise(data):
    result = bpmn_import(data)
    assert result.data is None and result.errors


@st.composite
def byte_mutations(draw) -> bytes:
    raw = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        start = draw(st.integers(0, len(raw)))
        end = draw(st.integers(start, min(len(raw), start + 300)))
        operation = draw(st.sampled_from(["delete", "duplicate", "overwrite", "insert"]))
        if operation == "delete":
            del raw[start:end]
        elif operation == "duplicate":
            raw[start:start] = raw[start:end]
        elif operation == "overwrite":
            raw[start:end] = draw(st.binary(min_size=end - start, max_size=end - start))
        else:
            raw[start:start] = draw(st.binary(max_size=40))
    return bytes(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=byte_mutations())
def test_damaged_copies_of_real_files_never_make_the_importer_raise(data):
    result = bpmn_import(data)
    assert result.data is None or isinstance(result.data, dict)


ATTRIBUTES = ["id", "sourceRef", "targetRef", "name", "default", "attachedToRef", "processRef"] + [
    f"{{{PISHKHAN_NS}}}{name}"
    for name in ("kind", "outcome", "when", "deadlineDays", "joinOf", "role", "result")
]


@st.composite
def tree_mutations(draw) -> bytes:
    """Well-formed XML with its structure broken: elements removed or moved, references pointed at
    other elements or at nothing, values replaced — the input that reaches the mapping itself."""
    root = etree.fromstring(draw(st.sampled_from(seeds_with_an_export())))
    elements = [e for e in root.iter() if isinstance(e.tag, str)]
    ids = [e.get("id") for e in elements if e.get("id")]
    for _ in range(draw(st.integers(1, 8))):
        element = draw(st.sampled_from(elements))
        operation = draw(st.sampled_from(["remove", "reference", "value", "move"]))
        if operation == "remove" and element.getparent() is not None:
            element.getparent().remove(element)
        elif operation == "move" and element.getparent() is not None:
            parent = draw(st.sampled_from(elements))
            if parent is not element and element not in parent.iterancestors():
                parent.append(element)
        elif operation == "reference":
            element.set(draw(st.sampled_from(ATTRIBUTES)), draw(st.sampled_from([*ids, "", "missing"])))
        else:
            text = draw(
                st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
            )
            try:
                element.set(draw(st.sampled_from(ATTRIBUTES)), text)
            except ValueError:
                assume(False)
    return etree.tostring(root)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=tree_mutations())
def test_rewired_copies_of_real_files_never_make_the_importer_raise(data):
    result = bpmn_import(data)
    assert result.data is None or isinstance(result.data, dict)
    if result.data is not None and not schema_problems(result.data, format_name="pishkhan/process/1"):
        definition_from_dict(result.data)  # whatever comes out and fits the schema can be built
