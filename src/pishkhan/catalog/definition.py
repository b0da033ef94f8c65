"""A process definition in memory: what a YAML file in the bank says, as plain dataclasses.

`docs/process-format.md` is the reference. `definition_from_dict` takes a dict that passed the JSON
Schema (catalog.loader does that, with file and line numbers for every problem) and builds the
objects; `definition_to_dict` gives back the canonical dict (key order fixed, defaults omitted), which
is what the database stores and what YAML export writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

WORK_KINDS = ("review", "inspection", "signature", "payment", "citizen", "automatic")
GATEWAY_KINDS = ("fork", "join")
END_KIND = "end"
OUTCOMES = ("approve", "reject", "return", "refer", "done")
# Outcomes that move a case forward; `return` and `reject` loops are left out of paths and hand-offs.
FORWARD_OUTCOMES = ("approve", "done", "refer")
END_RESULTS = ("approved", "rejected", "withdrawn")
AUTOMATIC_ACTIONS = ("issue_document", "notify", "integration")
CHANNELS = ("online", "office", "counter")
FIELD_TYPES = (
    "text",
    "textarea",
    "number",
    "money",
    "national_id",
    "mobile",
    "postal_code",
    "jalali_date",
    "boolean",
    "choice",
    "multi_choice",
    "file",
    "map_point",
    "group",
)
STANDARD_ROLES = (
    "clerk",
    "inspector",
    "signatory",
    "manager",
    "process_owner",
    "auditor",
    "council_observer",
    "administrator",
)


@dataclass
class Text:
    """A text shown to people, Persian first."""

    fa: str
    en: str = ""

    def get(self, language: str) -> str:
        return self.en if language.startswith("en") and self.en else self.fa

    def to_dict(self) -> dict:
        return {"fa": self.fa, "en": self.en} if self.en else {"fa": self.fa}

    @classmethod
    def from_value(cls, value) -> Text:
        if isinstance(value, str):
            return cls(fa=value)
        return cls(fa=value.get("fa", ""), en=value.get("en", ""))


@dataclass
class LegalBasis:
    law: str
    article: str = ""

    def to_dict(self) -> dict:
        return {"law": self.law, "article": self.article} if self.article else {"law": self.law}


@dataclass
class Role:
    code: str
    title: Text


@dataclass
class Document:
    id: str
    title: Text
    formats: list[str]
    max_size_mb: float = 10
    required: bool = True
    step: str = ""


@dataclass
class Option:
    value: str
    label: Text


@dataclass
class Field:
    id: str
    type: str
    label: Text
    help: Text | None = None
    required: bool = False
    min: float | None = None
    max: float | None = None
    options: list[Option] = field(default_factory=list)
    visible_if: str = ""
    document: str = ""
    fields: list[Field] = field(default_factory=list)  # sub-fields of a group
    repeat_min: int | None = None  # a group with repeat bounds is repeatable
    repeat_max: int | None = None

    @property
    def repeatable(self) -> bool:
        return self.repeat_min is not None or self.repeat_max is not None


@dataclass
class Fee:
    id: str
    title: Text
    amount: str  # CEL expression → integer Rials
    when: str = ""  # CEL condition
    step: str = ""


@dataclass
class Outcome:
    outcome: str  # one of OUTCOMES
    to: str  # a step id
    when: str = ""  # CEL condition for conditional routing
    label: Text | None = None


@dataclass
class Step:
    id: str
    kind: str  # WORK_KINDS, GATEWAY_KINDS or END_KIND
    title: Text | None = None
    role: str = ""
    deadline_days: float = 0
    legal_basis: LegalBasis | None = None
    discretionary: bool = False
    signature: bool = False
    action: str = ""  # automatic steps
    output: str = ""  # automatic issue_document steps
    outcomes: list[Outcome] = field(default_factory=list)
    branches: list[str] = field(default_factory=list)  # fork
    join_of: str = ""  # join
    next: str = ""  # join
    result: str = ""  # end

    @property
    def is_work(self) -> bool:
        return self.kind in WORK_KINDS

    @property
    def signs(self) -> bool:
        return self.kind == "signature" or self.signature

    def successors(self, *, forward_only: bool = False) -> list[str]:
        """Ids this step can lead to; with forward_only, leaving out return and reject loops."""
        if self.kind == "fork":
            return list(self.branches)
        if self.kind == "join":
            return [self.next] if self.next else []
        return [o.to for o in self.outcomes if not forward_only or o.outcome in FORWARD_OUTCOMES]


@dataclass
class Output:
    id: str
    kind: str  # permit | certificate | letter
    title: Text
    template: str = ""
    valid_days: int | None = None


@dataclass
class Definition:
    code: str
    version: int
    title: Text
    steps: list[Step]
    start: str
    status: str = "draft"
    description: Text | None = None
    department: str = ""
    category: str = ""
    keywords: list[str] = field(default_factory=list)
    legal_basis: list[LegalBasis] = field(default_factory=list)
    channels: list[str] = field(default_factory=lambda: list(CHANNELS))
    eligibility: Text | None = None
    legal_deadline_days: float | None = None
    service_norm_days: float | None = None
    roles: list[Role] = field(default_factory=list)
    documents: list[Document] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)
    fees: list[Fee] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)

    def step(self, step_id: str) -> Step | None:
        # The engine asks this on every move; an index beats a scan of 130 steps. It is rebuilt
        # when the list of steps is replaced or changes length (editors build new definitions).
        index = self.__dict__.get("_step_index")
        if index is None or index[0] is not self.steps or index[1] != len(self.steps):
            table: dict[str, Step] = {}
            for s in self.steps:
                table.setdefault(s.id, s)
            index = self.__dict__["_step_index"] = (self.steps, len(self.steps), table)
        return index[2].get(step_id)

    @property
    def work_steps(self) -> list[Step]:
        return [s for s in self.steps if s.is_work]

    @property
    def role_codes(self) -> set[str]:
        """Roles a step may name: the standard ones and those the file declares."""
        return set(STANDARD_ROLES) | {r.code for r in self.roles}


def _text(value) -> Text | None:
    return Text.from_value(value) if value not in (None, "") else None


def _legal(value) -> LegalBasis | None:
    return LegalBasis(law=value["law"], article=str(value.get("article", ""))) if value else None


def _field(data: dict) -> Field:
    repeat = data.get("repeat") or {}
    return Field(
        id=data["id"],
        type=data["type"],
        label=Text.from_value(data["label"]),
        help=_text(data.get("help")),
        required=bool(data.get("required", False)),
        min=data.get("min"),
        max=data.get("max"),
        options=[
            Option(value=str(o["value"]), label=Text.from_value(o["label"])) for o in data.get("options", [])
        ],
        visible_if=data.get("visible_if", ""),
        document=data.get("document", ""),
        fields=[_field(sub) for sub in data.get("fields", [])],
        repeat_min=repeat.get("min") if repeat else None,
        repeat_max=repeat.get("max") if repeat else None,
    )


def _step(data: dict) -> Step:
    return Step(
        id=data["id"],
        kind=data["kind"],
        title=_text(data.get("title")),
        role=data.get("role", ""),
        deadline_days=data.get("deadline_days", 0),
        legal_basis=_legal(data.get("legal_basis")),
        discretionary=bool(data.get("discretionary", False)),
        signature=bool(data.get("signature", False)),
        action=data.get("action", ""),
        output=data.get("output", ""),
        outcomes=[
            Outcome(outcome=o["outcome"], to=o["to"], when=o.get("when", ""), label=_text(o.get("label")))
            for o in data.get("outcomes", [])
        ],
        branches=list(data.get("branches", [])),
        join_of=data.get("join_of", ""),
        next=data.get("next", ""),
        result=data.get("result", ""),
    )


def definition_from_dict(data: dict[str, Any]) -> Definition:
    """Build a Definition from a dict that passed the JSON Schema. Semantic checks (unknown role,
    unreachable step, …) are catalog.validation's job, not this function's."""
    return Definition(
        code=data["code"],
        version=int(data.get("version", 1)),
        status=data.get("status", "draft"),
        title=Text.from_value(data["title"]),
        description=_text(data.get("description")),
        department=data.get("department", ""),
        category=data.get("category", ""),
        keywords=list(data.get("keywords", [])),
        legal_basis=[_legal(item) for item in data.get("legal_basis", [])],
        channels=list(data.get("channels", CHANNELS)),
        eligibility=_text(data.get("eligibility")),
        legal_deadline_days=data.get("legal_deadline_days"),
        service_norm_days=data.get("service_norm_days"),
        roles=[Role(code=r["code"], title=Text.from_value(r["title"])) for r in data.get("roles", [])],
        start=data["start"],
        documents=[
            Document(
                id=d["id"],
                title=Text.from_value(d["title"]),
                formats=list(d.get("formats", ["pdf"])),
                max_size_mb=d.get("max_size_mb", 10),
                required=bool(d.get("required", True)),
                step=d.get("step", ""),
            )
            for d in data.get("documents", [])
        ],
        fields=[_field(f) for f in data.get("fields", [])],
        fees=[
            Fee(
                id=f["id"],
                title=Text.from_value(f["title"]),
                amount=f["amount"],
                when=f.get("when", ""),
                step=f.get("step", ""),
            )
            for f in data.get("fees", [])
        ],
        steps=[_step(s) for s in data["steps"]],
        outputs=[
            Output(
                id=o["id"],
                kind=o["kind"],
                title=Text.from_value(o["title"]),
                template=o.get("template", ""),
                valid_days=o.get("valid_days"),
            )
            for o in data.get("outputs", [])
        ],
    )


def _compact(data: dict) -> dict:
    """Drop empty values so the canonical dict (and the YAML written from it) stays readable."""
    # Identity checks for None and False: `0 in (False,)` is true in Python, and min: 0 must survive.
    return {k: v for k, v in data.items() if v is not None and v is not False and v not in ("", [], {})}


def _field_dict(f: Field) -> dict:
    repeat = _compact({"min": f.repeat_min, "max": f.repeat_max}) if f.repeatable else None
    return _compact(
        {
            "id": f.id,
            "type": f.type,
            "label": f.label.to_dict(),
            "help": f.help.to_dict() if f.help else None,
            "required": f.required,
            "min": f.min,
            "max": f.max,
            "options": [{"value": o.value, "label": o.label.to_dict()} for o in f.options],
            "visible_if": f.visible_if,
            "document": f.document,
            "repeat": repeat,
            "fields": [_field_dict(sub) for sub in f.fields],
        }
    )


def _step_dict(s: Step) -> dict:
    return _compact(
        {
            "id": s.id,
            "title": s.title.to_dict() if s.title else None,
            "role": s.role,
            "kind": s.kind,
            "action": s.action,
            "output": s.output,
            "deadline_days": s.deadline_days if s.is_work else None,
            "legal_basis": s.legal_basis.to_dict() if s.legal_basis else None,
            "discretionary": s.discretionary,
            "signature": s.signature,
            "outcomes": [
                _compact(
                    {
                        "outcome": o.outcome,
                        "to": o.to,
                        "when": o.when,
                        "label": o.label.to_dict() if o.label else None,
                    }
                )
                for o in s.outcomes
            ],
            "branches": s.branches,
            "join_of": s.join_of,
            "next": s.next,
            "result": s.result,
        }
    )


def definition_to_dict(d: Definition) -> dict[str, Any]:
    """The canonical dict of a definition: fixed key order, empty values omitted."""
    return _compact(
        {
            "schema": "pishkhan/process/1",
            "code": d.code,
            "version": d.version,
            "status": d.status,
            "title": d.title.to_dict(),
            "description": d.description.to_dict() if d.description else None,
            "department": d.department,
            "category": d.category,
            "keywords": d.keywords,
            "legal_basis": [lb.to_dict() for lb in d.legal_basis],
            "channels": d.channels,
            "eligibility": d.eligibility.to_dict() if d.eligibility else None,
            "legal_deadline_days": d.legal_deadline_days,
            "service_norm_days": d.service_norm_days,
            "roles": [{"code": r.code, "title": r.title.to_dict()} for r in d.roles],
            "start": d.start,
            "documents": [
                _compact(
                    {
                        "id": doc.id,
                        "title": doc.title.to_dict(),
                        "formats": doc.formats,
                        "max_size_mb": doc.max_size_mb,
                        "step": doc.step,
                    }
                )
                | ({} if doc.required else {"required": False})
                for doc in d.documents
            ],
            "fields": [_field_dict(f) for f in d.fields],
            "fees": [
                _compact(
                    {
                        "id": f.id,
                        "title": f.title.to_dict(),
                        "amount": f.amount,
                        "when": f.when,
                        "step": f.step,
                    }
                )
                for f in d.fees
            ],
            "steps": [_step_dict(s) for s in d.steps],
            "outputs": [
                _compact(
                    {
                        "id": o.id,
                        "kind": o.kind,
                        "title": o.title.to_dict(),
                        "template": o.template,
                        "valid_days": o.valid_days,
                    }
                )
                for o in d.outputs
            ],
        }
    )
