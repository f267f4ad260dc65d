"""Scoring a form: levels with confidence, pretest items unscored, feedback and study plan."""

from __future__ import annotations

import random
from typing import Any

from server.assembly import Blueprint, assemble
from server.bank.loader import bundled_files, load_files
from server.bank.model import BankItem
from server.scoring import SCORING, score

BANK = load_files(bundled_files())
BY_ID = {item.id: item for item in BANK}


def form_with(pretest: int = 0, seed: int = 1) -> list[Any]:
    bank = list(BANK)
    if pretest:
        bank += [
            BankItem(**{**item.__dict__, "id": f"PRE-{n}", "status": "pretest"})
            for n, item in enumerate(BANK[:10])
        ]
    blueprint = Blueprint(
        {c: 5 for c in ("foundations", "improving", "cnn", "sequence")}, pretest=pretest
    )
    return assemble(bank, blueprint, random.Random(seed))


def answers(
    form: list[dict[str, object]], right: set[str], bank: dict[str, BankItem]
) -> dict[str, list[str]]:
    chosen = {}
    for entry in form:
        item = bank[entry["item"]]
        keyed = [
            shown
            for shown, source in entry["options"]
            if (source in item.key) == (item.id in right)
        ]
        chosen[entry["id"]] = keyed[:1]
    return chosen


def test_all_right_is_accomplished_with_confidence_and_no_plan() -> None:
    form = form_with()
    report = score(form, BY_ID, answers(form, {e["item"] for e in form}, BY_ID))
    assert report["scoring"] == SCORING
    assert report["overall"] == "accomplished"
    assert report["overall_detail"]["confidence"] > 0.8
    assert all(
        d["level"] == "accomplished" and d["correct"] == 5 for d in report["category_details"]
    )
    assert report["study_plan"] == []


def test_all_wrong_is_beginning_and_every_skill_is_in_the_plan() -> None:
    form = form_with()
    report = score(form, BY_ID, answers(form, set(), BY_ID))
    assert report["overall"] == "beginning"
    assert {p["skill"] for p in report["study_plan"]} == {s["skill"] for s in report["skills"]}
    assert all(not s["demonstrated"] for s in report["skills"])


def test_pretest_items_ride_along_unscored() -> None:
    form = form_with(pretest=2)
    pretest = [e for e in form if e["pretest"]]
    assert len(pretest) == 2 and len(form) == 22
    bank = {
        **BY_ID,
        **{
            f"PRE-{n}": BankItem(**{**item.__dict__, "id": f"PRE-{n}", "status": "pretest"})
            for n, item in enumerate(BANK[:10])
        },
    }
    scored = {e["item"] for e in form if not e["pretest"]}
    with_pretest_right = score(
        form, bank, answers(form, scored | {e["item"] for e in pretest}, bank)
    )
    with_pretest_wrong = score(form, bank, answers(form, scored, bank))
    assert with_pretest_right == with_pretest_wrong
    assert sum(d["total"] for d in with_pretest_right["category_details"]) == 20


def test_the_study_plan_puts_the_weakest_category_first() -> None:
    form = form_with()
    weak = {e["item"] for e in form if BY_ID[e["item"]].category != "cnn"}
    report = score(form, BY_ID, answers(form, weak, BY_ID))
    levels = {d["id"]: d["level"] for d in report["category_details"]}
    assert levels["cnn"] in ("beginning", "developing") and report["study_plan"]
    assert report["study_plan"][0]["category"] == "Convolutional neural networks"
    cnn_skills = [s for s in report["skills"] if s["category"] == "Convolutional neural networks"]
    assert all("Not yet shown" in s["feedback"] for s in cnn_skills)


def test_scoring_is_pure_and_ignores_options_from_other_items() -> None:
    form = form_with()
    chosen = answers(form, {e["item"] for e in form[:10]}, BY_ID)
    first, second = form[0], form[1]
    chosen[first["id"]] = [second["options"][0][0]]
    assert score(form, BY_ID, chosen) == score(form, BY_ID, chosen)


def test_item_feedback_explains_each_missed_question_when_the_assessment_allows() -> None:
    form = form_with()
    right = {e["item"] for e in form[:12]}
    plain = score(form, BY_ID, answers(form, right, BY_ID))
    detailed = score(form, BY_ID, answers(form, right, BY_ID), item_feedback=True)
    assert all(s["review"] == [] for s in plain["skills"])
    missed = [BY_ID[e["item"]] for e in form[12:]]
    reviews = [why for s in detailed["skills"] for why in s["review"]]
    assert len(reviews) == len(missed) == 8
    for item in missed:
        key_feedback = next(o.feedback for o in item.options if o.id in item.key)
        assert any(why in key_feedback for why in reviews)
    assert not any(why.startswith("Correct") for why in reviews)


def test_items_of_two_to_six_options_and_multiple_response_are_scored_by_their_keys() -> None:
    import dataclasses

    from server.bank.model import Option

    base = BANK[0]
    two = dataclasses.replace(
        base, id="TWO", options=(Option("t", "True"), Option("f", "False")), key=("f",)
    )
    six = dataclasses.replace(
        base, id="SIX", options=tuple(Option(k, k) for k in "abcdef"), key=("e",)
    )
    ticks = dataclasses.replace(  # multiple response with one right option
        base, id="TICKS", options=tuple(Option(k, k) for k in "abcd"), key=("b",),
        multiple_response=True,
    )  # fmt: skip
    bank = {item.id: item for item in (two, six, ticks)}
    form = [
        {"item": i.id, "id": f"p{n}", "options": [[f"p{n}{o.id}", o.id] for o in i.options]}
        for n, i in enumerate(bank.values())
    ]
    right = score(form, bank, {"p0": ["p0f"], "p1": ["p1e"], "p2": ["p2b"]})
    wrong = score(form, bank, {"p0": ["p0t"], "p1": ["p1a"], "p2": ["p2b", "p2c"]})
    assert sum(d["correct"] for d in right["category_details"]) == 3
    assert sum(d["correct"] for d in wrong["category_details"]) == 0  # a tick too many is wrong
