from __future__ import annotations

from server.bank.model import BankItem, Option
from server.scoring import PROVISIONAL_CUTS, level_for, score


def item(item_id: str, category: str, skill: str) -> BankItem:
    return BankItem(
        item_id,
        category,
        skill,
        "stem",
        tuple(Option(k, k, "f") for k in "abcd"),
        ("b",),
        1.0,
        0.0,
        0.2,
        "live",
        "test",
    )


BANK = {
    "f1": item("f1", "foundations", "Forward propagation"),
    "f2": item("f2", "foundations", "Forward propagation"),
    "c1": item("c1", "cnn", "Pooling"),
    "c2": item("c2", "cnn", "Convolution arithmetic"),
}
# Presented ids differ from the bank's: x<item>-<bank option>.
FORM = [{"item": i, "id": f"x{i}", "options": [[f"x{i}-{k}", k] for k in "dcba"]} for i in BANK]


def test_levels_follow_the_documented_cuts() -> None:
    assert level_for(0.0) == "beginning"
    assert level_for(PROVISIONAL_CUTS[0]) == "developing"
    assert level_for(PROVISIONAL_CUTS[1]) == "accomplished"


def test_all_correct_is_accomplished_everywhere() -> None:
    report = score(FORM, BANK, {f"x{i}": [f"x{i}-b"] for i in BANK})
    assert report["overall"] == "accomplished"
    assert report["categories"] == {
        "Deep learning foundations": "accomplished",
        "Convolutional neural networks": "accomplished",
    }
    assert report["study_plan"] == []
    assert all(s["demonstrated"] for s in report["skills"])


def test_unanswered_counts_as_wrong_and_feeds_the_study_plan() -> None:
    responses = {"xf1": ["xf1-b"], "xf2": ["xf2-a"], "xc1": ["xc1-b"]}  # c2 unanswered
    report = score(FORM, BANK, responses)
    details = {d["id"]: d for d in report["category_details"]}
    assert (details["foundations"]["correct"], details["foundations"]["total"]) == (1, 2)
    assert details["cnn"]["level"] == "developing"
    # Weakest first: a skill with nothing right comes before one half right.
    assert [p["skill"] for p in report["study_plan"]] == [
        "Convolution arithmetic",
        "Forward propagation",
    ]
    forward = next(s for s in report["skills"] if s["skill"] == "Forward propagation")
    assert forward["correct"] == 1 and "1 of 2" in forward["feedback"]


def test_options_outside_the_item_score_nothing_and_scoring_is_pure() -> None:
    responses = {"xf1": ["xc1-b"], "xf2": ["xf2-b"]}
    assert score(FORM, BANK, responses) == score(FORM, BANK, responses)
    assert score(FORM, BANK, responses)["category_details"][0]["correct"] == 1
