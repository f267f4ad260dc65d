"""Item bank insights for an organisation's assessment: how often each item has been on a form
(exposure, against the assessment's ceiling), and, once responses exist, each item's p-value
(share right) and point-biserial (how well it separates stronger from weaker candidates), with
the flags item analysis raises. Items are named by id, category and skill, never by their text:
an employer sees how the bank behaves, not the questions."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select

from server import db
from server.accounts import Principal
from server.assembly import Blueprint
from server.assessments import get as get_assessment
from server.bank.responses import stored_responses
from server.bank.store import cached_items
from server.calibration import ResponseMatrix, analyse
from server.context import Context
from shared import canonical
from shared.models import category_name


def insights(
    ctx: Context, principal: Principal, organisation_id: str, assessment_id: str
) -> dict[str, Any]:
    principal.require(organisation_id, "results:read")
    assessment = get_assessment(ctx, principal, organisation_id, assessment_id)
    with ctx.reader.connect() as connection:
        row = connection.execute(
            select(db.assessments.c.forms_issued, db.assessments.c.blueprint).where(
                db.assessments.c.id == assessment_id
            )
        ).one()
        exposure = dict(
            connection.execute(
                select(db.item_exposure.c.item_id, db.item_exposure.c.forms).where(
                    db.item_exposure.c.assessment_id == assessment_id
                )
            ).all()
        )
        bank = cached_items(ctx, connection)
        sittings = stored_responses(connection, assessment_id)
    forms = int(row.forms_issued)
    ceiling = Blueprint.from_json(canonical.loads(row.blueprint)).max_exposure
    analysed = {}
    if sittings:
        key = {item_id: item.key for item_id, item in bank.items()}
        analysed = {r.item_id: r for r in analyse(ResponseMatrix.build(sittings), key)}
    items = []
    for item_id in sorted(set(exposure) | set(analysed)):
        item = bank.get(item_id)
        found = analysed.get(item_id)
        items.append(
            {
                "item_id": item_id,
                "category": category_name(item.category) if item else "",
                "skill": item.skill if item else "",
                "forms": int(exposure.get(item_id, 0)),
                "exposure": round(exposure.get(item_id, 0) / forms, 4) if forms else 0.0,
                "n": found.n if found else 0,
                "p_value": None if not found or math.isnan(found.p_value) else found.p_value,
                "point_biserial": None
                if not found or math.isnan(found.point_biserial)
                else found.point_biserial,
                "flags": list(found.flags) if found else [],
            }
        )
    return {
        "assessment": assessment,
        "forms_issued": forms,
        "exposure_ceiling": ceiling,
        "sittings_scored": len(sittings),
        "items": items,
    }


def exposure_chart(found: dict[str, Any], width: int = 720, height: int = 220) -> dict[str, Any]:
    """Bars of each item's exposure, highest first, with the ceiling as a line."""
    items = sorted(found["items"], key=lambda i: -i["exposure"])
    left, bottom, top = 48, height - 28, 12
    span = max([i["exposure"] for i in items] + [found["exposure_ceiling"], 0.01])
    scale = (bottom - top) / span
    step = (width - left - 8) / max(1, len(items))
    bars = [
        {
            "x": round(left + n * step, 1),
            "w": round(max(1.0, step - 1), 1),
            "y": round(bottom - i["exposure"] * scale, 1),
            "h": round(i["exposure"] * scale, 1),
            "over": i["exposure"] > found["exposure_ceiling"],
            "label": f"{i['item_id']}: on {i['forms']} forms ({i['exposure']:.0%})",
        }
        for n, i in enumerate(items)
    ]
    ceiling_y = round(bottom - found["exposure_ceiling"] * scale, 1)
    return {"width": width, "height": height, "bars": bars, "left": left, "bottom": bottom,
            "ceiling_y": ceiling_y, "ceiling": found["exposure_ceiling"], "top": top,
            "span": span}  # fmt: skip


def quality_chart(found: dict[str, Any], width: int = 720, height: int = 300) -> dict[str, Any]:
    """Each answered item as a point: p-value across, point-biserial up; flagged items drawn
    as squares, the others as circles; the 0.2-0.8 band and the 0.2 line marked."""
    left, right, top, bottom = 56, width - 16, 12, height - 36

    def x(p: float) -> float:
        return round(left + p * (right - left), 1)

    def y(r: float) -> float:  # -0.5 .. 1.0
        return round(bottom - (max(-0.5, min(1.0, r)) + 0.5) / 1.5 * (bottom - top), 1)

    def label(item: dict[str, Any]) -> str:
        text = f"{item['item_id']}: p {item['p_value']:.2f}, point-biserial "
        text += f"{item['point_biserial']:.2f}"
        return text + (f" ({'; '.join(item['flags'])})" if item["flags"] else "")

    points = [
        {"x": x(i["p_value"]), "y": y(i["point_biserial"]), "flagged": bool(i["flags"]),
         "label": label(i)}
        for i in found["items"]
        if i["p_value"] is not None and i["point_biserial"] is not None
    ]  # fmt: skip
    return {
        "width": width, "height": height, "points": points, "left": left, "right": right,
        "top": top, "bottom": bottom, "band": (x(0.2), x(0.8)), "line": y(0.2), "zero": y(0.0),
        "ticks_x": [{"x": x(v / 10), "label": f"{v / 10:.1f}"} for v in range(0, 11, 2)],
        "ticks_y": [{"y": y(v), "label": f"{v:.1f}"} for v in (-0.5, 0.0, 0.5, 1.0)],
    }  # fmt: skip
