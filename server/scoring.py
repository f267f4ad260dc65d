"""Scoring a sitting: levels per category and overall, per-skill feedback, a study plan.

PROVISIONAL: levels come from the share of items answered correctly (unanswered counts as
wrong), cut at PROVISIONAL_CUTS. Item response theory scoring (3PL, EAP) replaces this rule; the
report's shape stays. Scoring is pure: the same form, bank and responses give the same report.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from server.bank.model import BankItem
from shared.models import CATEGORIES, LEVELS, category_name

# Share correct at or above which a level is reached: developing, accomplished.
PROVISIONAL_CUTS = (0.4, 0.75)


@dataclass(frozen=True)
class Tally:
    correct: int = 0
    total: int = 0

    def add(self, correct: bool) -> Tally:
        return Tally(self.correct + int(correct), self.total + 1)

    @property
    def share(self) -> float:
        return self.correct / self.total if self.total else 0.0


def level_for(share: float) -> str:
    if share >= PROVISIONAL_CUTS[1]:
        return LEVELS[2]
    if share >= PROVISIONAL_CUTS[0]:
        return LEVELS[1]
    return LEVELS[0]


def _skill_feedback(tally: Tally) -> str:
    if tally.correct == tally.total:
        return "Shown: you answered every question on this skill correctly."
    if tally.correct == 0:
        return "Not yet shown: review this skill before your next attempt."
    return f"Partly shown: {tally.correct} of {tally.total} questions right; worth consolidating."


def score(
    form: list[dict[str, Any]], bank: dict[str, BankItem], responses: dict[str, list[str]]
) -> dict[str, Any]:
    """Score ``responses`` (presented item id to presented option ids) against ``form``."""
    categories: dict[str, Tally] = defaultdict(Tally)
    skills: dict[tuple[str, str], Tally] = defaultdict(Tally)
    for entry in form:
        item = bank[entry["item"]]
        to_bank = dict(entry["options"])
        chosen = {to_bank[option] for option in responses.get(entry["id"], []) if option in to_bank}
        correct = chosen == set(item.key)
        categories[item.category] = categories[item.category].add(correct)
        skills[(item.category, item.skill)] = skills[(item.category, item.skill)].add(correct)

    ordered = [c for c in CATEGORIES if c in categories]
    details = [
        {
            "id": c,
            "name": category_name(c),
            "level": level_for(categories[c].share),
            "correct": categories[c].correct,
            "total": categories[c].total,
        }
        for c in ordered
    ]
    overall_share = sum(categories[c].share for c in ordered) / len(ordered) if ordered else 0.0
    skill_reports = [
        {
            "skill": skill,
            "category": category_name(category),
            "correct": tally.correct,
            "total": tally.total,
            "demonstrated": tally.correct == tally.total,
            "feedback": _skill_feedback(tally),
        }
        for (category, skill), tally in sorted(
            skills.items(), key=lambda kv: (ordered.index(kv[0][0]), kv[0][1])
        )
    ]
    level_rank = {d["id"]: LEVELS.index(str(d["level"])) for d in details}
    plan_source = sorted(
        (
            (category, skill, tally)
            for (category, skill), tally in skills.items()
            if tally.correct < tally.total
        ),
        key=lambda entry: (level_rank[entry[0]], entry[2].share, entry[1]),
    )
    study_plan = [
        {
            "skill": skill,
            "category": category_name(category),
            "why": f"Not yet shown; your {category_name(category)} level is "
            f"{details[ordered.index(category)]['level']}.",
        }
        for category, skill, _tally in plan_source
    ]
    return {
        "scoring": "provisional-share-correct",
        "overall": level_for(overall_share),
        "categories": {str(d["name"]): d["level"] for d in details},
        "category_details": details,
        "skills": skill_reports,
        "study_plan": study_plan,
    }
