from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from server.bank.loader import bundled_files, load_file, load_files
from server.bank.model import BankError
from shared.models import CATEGORIES


def test_the_bundled_bank_loads_with_every_category() -> None:
    bank = load_files(bundled_files())
    counts = Counter(item.category for item in bank)
    assert set(counts) == set(CATEGORIES) and min(counts.values()) >= 10
    assert all(len(item.options) == 4 and item.key for item in bank)
    assert len({item.id for item in bank}) == len(bank)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[item]\n", "not valid TOML"),
        ("title = 'x'\n", "holds no [[item]] tables"),
        ('[[item]]\nid = "X1"\ncategory = "astrology"\n', "unknown category"),
        (
            '[[item]]\nid = "X1"\ncategory = "cnn"\nskill = "s"\nstem = "q"\nkey = ["z"]\n'
            'options = [{id = "a", text = "t", feedback = "f"}, '
            '{id = "b", text = "u", feedback = "g"}]\n',
            "'key' must list",
        ),
        (
            '[[item]]\nid = "X1"\ncategory = "cnn"\nskill = "s"\nstem = "q"\nkey = ["a"]\n'
            'options = [{id = "a", text = ""}, {id = "b", text = "u", feedback = "g"}]\n',
            "'text' must be non-empty",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_file_and_problem(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BankError) as error:
        load_file(path)
    assert str(path) in str(error.value) and message in str(error.value)


def test_ids_must_be_unique_across_files(tmp_path: Path) -> None:
    source = bundled_files()[0]
    copy = tmp_path / "copy.toml"
    copy.write_text(source.read_text())
    with pytest.raises(BankError, match="also defined"):
        load_files([source, copy])
