"""Linear-on-the-fly assembly: the blueprint's constraints on many seeds, exposure control."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from server.assembly import BankIndex, BankTooSmall, Blueprint, assemble, package_items
from server.bank.loader import bundled_files, load_files
from server.bank.model import BankItem

BANK = load_files(bundled_files())
BY_ID = {item.id: item for item in BANK}
INDEX = BankIndex(BANK)
BLUEPRINT = Blueprint({"foundations": 5, "improving": 5, "cnn": 5, "sequence": 5})


@pytest.mark.parametrize("seed", range(200))
def test_every_form_keeps_the_blueprint(seed: int) -> None:
    form = assemble(INDEX, BLUEPRINT, random.Random(seed))
    items = [BY_ID[entry["item"]] for entry in form]
    assert Counter(i.category for i in items) == BLUEPRINT.per_category
    assert len({i.id for i in items}) == 20
    skills = Counter(i.skill for i in items)
    assert max(skills.values()) <= BLUEPRINT.max_per_skill
    ids = {i.id for i in items}
    for item in items:  # enemies never together
        assert not set(item.enemies) & ids
        assert not any(item.id in BY_ID[other].enemies for other in ids)
    shown = [entry["id"] for entry in form] + [o for e in form for o, _ in e["options"]]
    assert len(set(shown)) == len(shown)


def test_difficulty_spreads_around_the_target() -> None:
    spreads = []
    for seed in range(50):
        items = [BY_ID[e["item"]] for e in assemble(INDEX, BLUEPRINT, random.Random(seed))]
        b = sorted(i.b for i in items)
        spreads.append(b[-1] - b[0])
        assert -0.75 < sum(b) / len(b) < 0.75
    assert min(spreads) > 1.0  # easy and hard items on every form


def test_an_easier_target_gives_an_easier_form() -> None:
    def mean_b(target: float) -> float:
        blueprint = Blueprint(BLUEPRINT.per_category, target_theta=target)
        forms = [assemble(INDEX, blueprint, random.Random(s)) for s in range(30)]
        return sum(BY_ID[e["item"]].b for f in forms for e in f) / (30 * 20)

    assert mean_b(-1.0) < mean_b(0.0) < mean_b(1.0)


def test_enemies_declared_in_the_bank_are_respected() -> None:
    enemies = [(i.id, e) for i in BANK for e in i.enemies]
    assert enemies, "the bundled bank declares enemy pairs"
    # Force the pair's items to be the most informative: enemies must still be kept apart.
    for seed in range(300):
        ids = {e["item"] for e in assemble(INDEX, BLUEPRINT, random.Random(seed))}
        for first, second in enemies:
            assert not {first, second} <= ids


def test_items_seen_in_an_earlier_attempt_never_return() -> None:
    first = assemble(INDEX, BLUEPRINT, random.Random(1))
    seen = frozenset(e["item"] for e in first)
    for seed in range(2, 40):
        again = {e["item"] for e in assemble(INDEX, BLUEPRINT, random.Random(seed), seen=seen)}
        assert not again & seen


def test_the_same_seed_gives_the_same_form_and_different_seeds_differ() -> None:
    assert assemble(INDEX, BLUEPRINT, random.Random(5)) == assemble(
        INDEX, BLUEPRINT, random.Random(5)
    )
    one = {e["item"] for e in assemble(INDEX, BLUEPRINT, random.Random(5))}
    other = {e["item"] for e in assemble(INDEX, BLUEPRINT, random.Random(6))}
    assert one != other


def test_no_item_exceeds_the_exposure_ceiling_in_simulation() -> None:
    exposure: Counter[str] = Counter()
    forms = 1000
    rng = random.Random(11)
    for n in range(forms):
        exposure.update(e["item"] for e in assemble(INDEX, BLUEPRINT, rng, exposure, n))
    assert max(exposure.values()) / forms <= BLUEPRINT.max_exposure
    assert len(exposure) > 150  # the load is spread over much of the bank


def test_option_order_is_shuffled_across_forms() -> None:
    first_positions = {
        e["options"][0][1] for s in range(30) for e in assemble(INDEX, BLUEPRINT, random.Random(s))
    }
    assert first_positions == {"a", "b", "c", "d"}


def test_package_items_carry_no_key() -> None:
    content = package_items(assemble(INDEX, BLUEPRINT, random.Random(1)), BY_ID)
    assert all(set(entry) == {"id", "category", "stem", "multiple", "options"} for entry in content)
    assert all(set(o) == {"id", "text"} for entry in content for o in entry["options"])


def test_a_bank_too_small_for_the_blueprint_is_a_clear_error() -> None:
    with pytest.raises(BankTooSmall, match="too few items for 'cnn'"):
        assemble(INDEX, Blueprint({"cnn": 500}), random.Random(1))


def test_a_small_bank_relaxes_skill_spread_rather_than_failing() -> None:
    tiny = [
        BankItem(**{**item.__dict__, "skill": "one skill"})
        for item in BANK
        if item.category == "cnn"
    ][:6]
    form = assemble(tiny, Blueprint({"cnn": 5}), random.Random(1))
    assert len(form) == 5
