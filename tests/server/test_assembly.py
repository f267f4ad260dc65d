from __future__ import annotations

import random

import pytest

from server.assembly import assemble, package_items
from server.bank.loader import bundled_files, load_files
from server.errors import ApiError

BANK = load_files(bundled_files())
BLUEPRINT = {"foundations": 5, "improving": 5, "cnn": 5, "sequence": 5}


def test_a_form_follows_the_blueprint_with_no_repeats() -> None:
    form = assemble(BANK, BLUEPRINT, random.Random(1))
    by_id = {item.id: item for item in BANK}
    categories = [by_id[entry["item"]].category for entry in form]
    assert {c: categories.count(c) for c in BLUEPRINT} == BLUEPRINT
    assert len({entry["item"] for entry in form}) == 20
    shown = [entry["id"] for entry in form] + [o for e in form for o, _ in e["options"]]
    assert len(set(shown)) == len(shown)


def test_forms_differ_between_candidates_and_repeat_for_a_seed() -> None:
    first = assemble(BANK, BLUEPRINT, random.Random(1))
    assert first == assemble(BANK, BLUEPRINT, random.Random(1))
    second = assemble(BANK, BLUEPRINT, random.Random(2))
    assert {e["item"] for e in first} != {e["item"] for e in second}


def test_option_order_is_shuffled_across_forms() -> None:
    first_positions = set()
    for seed in range(30):
        for entry in assemble(BANK, BLUEPRINT, random.Random(seed)):
            first_positions.add(entry["options"][0][1])
    assert first_positions == {"a", "b", "c", "d"}


def test_package_items_carry_no_key() -> None:
    form = assemble(BANK, BLUEPRINT, random.Random(1))
    content = package_items(form, {item.id: item for item in BANK})
    assert all(set(entry) == {"id", "category", "stem", "multiple", "options"} for entry in content)
    assert all(set(o) == {"id", "text"} for entry in content for o in entry["options"])


def test_a_bank_too_small_for_the_blueprint_is_a_clear_error() -> None:
    with pytest.raises(ApiError) as error:
        assemble(BANK, {"cnn": 500}, random.Random(1))
    assert error.value.status == 503 and "too few items" in error.value.message
