"""Scoring a sitting: abilities and levels per category and overall, per-skill feedback and a
study plan. Pure: the same form, bank and responses always give the same report.

Abilities come from ``server.measurement`` (3PL, EAP, a higher-order prior that lets the
categories borrow strength). Pretest items ride along on forms and are not scored.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import numpy as np

from server.bank.model import BankItem
from server.irt import p3
from server.measurement import CUTS, Ability, Responses, estimate
from shared.models import CATEGORIES, LEVELS, category_name, confidence_words, next_level, rubric

SCORING = "irt-3pl-eap-higher-order/1"


def _skill_feedback(correct: int, total: int, expected: float) -> str:
    if correct == total:
        return "Shown: you answered every question on this skill correctly."
    if correct == 0:
        return "Not yet shown: review this skill before your next attempt."
    gap = "below" if correct < expected - 0.5 else "in line with"
    return (
        f"Partly shown: {correct} of {total} right, {gap} what your overall level predicts; "
        "worth consolidating."
    )


def _plan_priority(ability: Ability, missed_weight: float) -> float:
    """How much working on a skill would raise a level: categories just below the next cut
    first, then skills where the missed questions discriminated most."""
    index = LEVELS.index(ability.level)
    if index == len(LEVELS) - 1:
        return missed_weight * 0.01  # already at the top level: consolidation only
    above = sum(p for name, p in ability.level_probabilities.items() if LEVELS.index(name) > index)
    distance = max(CUTS[index] - ability.theta, 0.0)
    return missed_weight * (above + 0.2) / (1.0 + distance)


def _plan_reason(category: str, ability: Ability) -> str:
    """Why a skill is in the plan, from the rubric (never from the sitting's own questions)."""
    level = ability.level
    sure = confidence_words(ability.confidence)
    target = next_level(level)
    if target is None:
        return f"Not yet shown, though your level here is {level} ({sure}): worth consolidating."
    return (
        f"Not yet shown. Your level here is {level} ({sure}); {target} means: "
        f"{rubric(category, target)}"
    )


def _review(item: BankItem) -> str:
    """What a missed item teaches: its key's explanation, without the 'Correct:' label."""
    explanation = next(o.feedback for o in item.options if o.id in item.key)
    return re.sub(r"^(Correct|Right)\s*[:.]\s*", "", explanation)


def score(
    form: list[dict[str, Any]],
    bank: dict[str, BankItem],
    responses: dict[str, list[str]],
    item_feedback: bool = False,
) -> dict[str, Any]:
    """Score ``responses`` (presented item id to presented option ids) against ``form``.

    With ``item_feedback`` each skill also carries the explanation behind every question the
    candidate missed: useful for learning, at the price of exposing those items' reasoning, so
    it is an assessment setting (the candidate never sees those items again).
    """
    by_category: dict[str, list[tuple[BankItem, bool]]] = defaultdict(list)
    for entry in form:
        if entry.get("pretest"):
            continue
        item = bank[entry["item"]]
        to_bank = dict(entry["options"])
        chosen = {to_bank[o] for o in responses.get(entry["id"], []) if o in to_bank}
        by_category[item.category].append((item, chosen == set(item.key)))

    ordered = [c for c in CATEGORIES if c in by_category]
    data = {
        c: Responses(
            correct=np.array([float(ok) for _, ok in by_category[c]]),
            a=np.array([i.a for i, _ in by_category[c]]),
            b=np.array([i.b for i, _ in by_category[c]]),
            c=np.array([i.c for i, _ in by_category[c]]),
        )
        for c in ordered
    }
    abilities, overall = estimate(data)
    details = [
        {
            "id": c,
            "name": category_name(c),
            "correct": int(sum(ok for _, ok in by_category[c])),
            "total": len(by_category[c]),
            **abilities[c].as_dict(),
        }
        for c in ordered
    ]

    # Each item's chance of a right answer at its category's ability: one call per category.
    chance: dict[str, float] = {}
    for c in ordered:
        theta = abilities[c].theta
        for (item, _ok), p in zip(
            by_category[c], p3(theta, data[c].a, data[c].b, data[c].c), strict=True
        ):
            chance[item.id] = float(p)
    skills: dict[tuple[str, str], list[tuple[BankItem, bool]]] = defaultdict(list)
    for c in ordered:
        for item, ok in by_category[c]:
            skills[(c, item.skill)].append((item, ok))
    skill_reports, plan = [], []
    for (c, skill), answered in sorted(
        skills.items(), key=lambda kv: (ordered.index(kv[0][0]), kv[0][1])
    ):
        correct = sum(ok for _, ok in answered)
        expected = sum(chance[i.id] for i, _ in answered)
        skill_reports.append(
            {
                "skill": skill,
                "category": category_name(c),
                "correct": correct,
                "total": len(answered),
                "demonstrated": correct == len(answered),
                "feedback": _skill_feedback(correct, len(answered), expected),
                "review": [_review(i) for i, ok in answered if not ok] if item_feedback else [],
            }
        )
        missed = sum(i.a for i, ok in answered if not ok)
        if missed:
            plan.append((_plan_priority(abilities[c], missed), c, skill))
    plan.sort(key=lambda entry: (-entry[0], entry[2]))
    study_plan = [
        {
            "skill": skill,
            "category": category_name(c),
            "why": _plan_reason(c, abilities[c]),
        }
        for _priority, c, skill in plan
    ]
    return {
        "scoring": SCORING,
        "overall": overall.level,
        "overall_detail": overall.as_dict(),
        "categories": {str(d["name"]): d["level"] for d in details},
        "category_details": details,
        "skills": skill_reports,
        "study_plan": study_plan,
        "cuts": list(CUTS),
    }
