"""Plausible form answers for any definition, for the demo city, the simulator and benchmarks.

`sample_answers(definition, rng=…)` answers every field the way a careful citizen would: within
min/max, a listed option, checksum-valid identifiers, a Tehran map point. The result still goes
through `cases.answers.answers_validate` when a case is submitted, like any citizen's answers."""

from __future__ import annotations

import math
import random

from pishkhan.catalog.definition import Definition, Field
from pishkhan.core.validators import national_id_check_digit

# Central Tehran, so a map point lands in the city, not in the desert.
TEHRAN = (35.6892, 51.3890)


def sample_national_id(rng: random.Random) -> str:
    first_nine = f"{rng.randrange(1, 10**9):09d}"
    return first_nine + str(national_id_check_digit(first_nine))


def _number(field: Field, rng: random.Random) -> int:
    low = math.ceil(field.min) if field.min is not None else 1
    high = math.floor(field.max) if field.max is not None else max(low, 1) * 500
    high = max(low, min(high, low + 1000))
    return rng.randint(low, high)


def _value(field: Field, rng: random.Random, *, district_code: str):
    kind = field.type
    if kind in ("text", "textarea"):
        return f"نمونه {field.label.fa}"
    if kind == "number":
        return _number(field, rng)
    if kind == "money":
        return _number(field, rng) * 1000
    if kind == "national_id":
        return sample_national_id(rng)
    if kind == "mobile":
        return f"0912{rng.randrange(10**7):07d}"
    if kind == "postal_code":
        return "1" + "".join(rng.choice("13456789") for _ in range(4)) + f"{rng.randrange(10**5):05d}"
    if kind == "jalali_date":
        return f"1404/{rng.randint(1, 12):02d}/{rng.randint(1, 28):02d}"
    if kind == "boolean":
        return True
    if kind == "choice":
        if field.id == "district" and any(o.value == district_code for o in field.options):
            return district_code
        return field.options[0].value if field.options else ""
    if kind == "multi_choice":
        return [field.options[0].value] if field.options else []
    if kind == "map_point":
        return {"lat": TEHRAN[0] + rng.uniform(-0.05, 0.05), "lng": TEHRAN[1] + rng.uniform(-0.05, 0.05)}
    if kind == "file":
        # The id of the uploaded document the answer points to; sample cases carry no real files.
        return f"{field.document or field.id}-1"
    if kind == "group":
        row = {sub.id: _value(sub, rng, district_code=district_code) for sub in field.fields}
        row = {k: v for k, v in row.items() if v is not None}
        if field.repeatable:
            return [dict(row) for _ in range(max(field.repeat_min or 1, 1))]
        return row
    return None


def sample_answers(
    definition: Definition, *, rng: random.Random | None = None, district_code: str = ""
) -> dict:
    """Answers to every field of `definition` (hidden ones are dropped when validated)."""
    rng = rng or random.Random(0)  # noqa: S311 - demo data, not secrets
    answers = {f.id: _value(f, rng, district_code=district_code) for f in definition.fields}
    return {k: v for k, v in answers.items() if v is not None}
