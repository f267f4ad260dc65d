"""``examgate-server bank`` as a user runs it: validate, stats, import (all or nothing), export."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from server import db
from server.bank.loader import BUNDLED, load_file
from server.settings import Settings
from tests.conftest import venv_bin

SAMPLES = Path(__file__).with_name("samples")


def bank(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [venv_bin("examgate-server"), "bank", *args], capture_output=True, text=True, timeout=120
    )


def count_items(data: Path, status: str | None = None) -> int:
    engine = db.make_engine(Settings.load(data).database_url)
    query = select(func.count()).select_from(db.items)
    if status:
        query = query.where(db.items.c.status == status)
    with engine.connect() as connection:
        found = int(connection.execute(query).scalar_one())
    engine.dispose()
    return found


def init(tmp_path: Path) -> Path:
    data = tmp_path / "srv"
    subprocess.run(
        [venv_bin("examgate-server"), "init", "--data", str(data)], check=True, capture_output=True
    )
    return data


def test_stats_json_describes_the_bundled_bank() -> None:
    done = bank("stats", "--json")
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    assert figures["items"] == sum(figures["categories"].values())
    assert set(figures["categories"]) == {"foundations", "improving", "cnn", "sequence"}
    assert sum(figures["skills"].values()) == figures["items"]
    assert figures["practice_items"] >= 20


def test_stats_plots_the_difficulty_spread(tmp_path: Path) -> None:
    done = bank("stats", "--plot", str(tmp_path / "spread.png"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "spread.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_validate_reports_file_and_line_under_the_profile_asked_for(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    source = (BUNDLED / "cnn.toml").read_text()
    broken.write_text(source.replace('text = "28x28x6"', 'text = "All of the above"', 1))
    house = bank("validate", "--partial", "--profile", "house", str(broken))
    assert house.returncode == 1
    line = next(line for line in house.stdout.splitlines() if "all/none" in line)
    assert line.startswith(f"{broken}:") and "(CNN-0001): error:" in line
    general = bank("validate", "--partial", str(broken))  # any bank's rules: a warning
    assert general.returncode == 0, general.stdout
    line = next(line for line in general.stdout.splitlines() if "all/none" in line)
    assert "(CNN-0001): warning:" in line and "(general profile)" in general.stdout


def test_the_bundled_bank_is_held_to_the_house_profile() -> None:
    done = bank("validate")
    assert done.returncode == 0, done.stdout
    assert "(house profile): 0 errors" in done.stdout


def _mixed(tmp_path: Path) -> Path:
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(SAMPLES / "qti30_item.xml", mixed)
    shutil.copy(SAMPLES / "malformed" / "missing_feedback_qti30.xml", mixed)
    shutil.copy(SAMPLES / "malformed" / "two_keys_moodle.xml", mixed)
    return mixed


def test_import_takes_every_good_item_and_names_every_skipped_one(tmp_path: Path) -> None:
    data = init(tmp_path)
    before = count_items(data)
    done = bank("import", str(_mixed(tmp_path)), "--data", str(data), "--category", "cnn",
                "--skill", "Pooling")  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr  # some imported, some skipped
    assert "two_keys_moodle.xml: question 2 'Two right answers in a single" in done.stdout
    assert "skipped: 2 answers are each fully right" in done.stdout
    table = done.stdout.splitlines()[-4:]
    assert table[-2].split()[-3:] == ["2", "0", "1"]  # total: imported, warnings, skipped
    assert "Imported 2 new and 0 changed items (0 unchanged); 1 skipped." in done.stdout
    assert count_items(data) == before + 2


def test_import_with_strict_is_all_or_nothing(tmp_path: Path) -> None:
    data = init(tmp_path)
    before = count_items(data)
    done = bank("import", str(_mixed(tmp_path)), "--data", str(data), "--category", "cnn",
                "--skill", "Pooling", "--strict")  # fmt: skip
    assert done.returncode == 1
    assert "Nothing imported: 1 skipped with --strict" in done.stdout
    assert count_items(data) == before

    bomb = bank(
        "import", str(SAMPLES / "malformed" / "entity_bomb.xml"), "--data", str(data),
        "--category", "cnn", "--skill", "x",
    )  # fmt: skip
    assert bomb.returncode == 1 and "refused" in bomb.stdout and "Traceback" not in bomb.stderr
    assert count_items(data) == before


def test_an_unknown_category_is_refused_and_nothing_is_imported(tmp_path: Path) -> None:
    data = init(tmp_path)
    before = count_items(data)
    done = bank("import", str(SAMPLES / "questions.gift"), "--data", str(data),
                "--category", "computer-vision")  # fmt: skip
    assert done.returncode == 1
    assert "unknown category 'computer-vision'; the categories are" in done.stderr
    assert count_items(data) == before


def test_import_of_every_format_lands_as_drafts_and_writes_reviewable_toml(
    tmp_path: Path,
) -> None:
    data = init(tmp_path)
    before = count_items(data)
    package = tmp_path / "package.zip"
    shutil.make_archive(str(package.with_suffix("")), "zip", SAMPLES / "qti_package")
    review = tmp_path / "review.toml"
    done = bank(
        "import",
        str(SAMPLES / "qti21_item.xml"),
        str(SAMPLES / "qti30_item.xml"),
        str(package),
        str(SAMPLES / "moodle.xml"),
        str(SAMPLES / "questions.gift"),
        "--data",
        str(data),
        "--category-map",
        "CNN=cnn",
        "--category-map",
        "RNN=sequence",
        "--write",
        str(review),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Imported 11 new and 0 changed items (0 unchanged)." in done.stdout
    assert count_items(data) == before + 11 and count_items(data, "draft") == 11
    again = bank("validate", "--partial", str(review))
    assert again.returncode == 0, again.stdout
    assert "11 items, 0 practice items (general profile): 0 errors" in again.stdout


def test_export_writes_a_qti3_package(tmp_path: Path) -> None:
    out = tmp_path / "bank.zip"
    done = bank("export", "--format", "qti3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    back = bank("import", str(out), "--dry-run", "--status", "live")
    assert back.returncode == 0, back.stdout


def test_a_stem_like_one_in_the_bank_in_any_status_is_a_warning(tmp_path: Path) -> None:
    data = init(tmp_path)
    [live] = [i for i in load_file(BUNDLED / "cnn.toml") if i.id == "CNN-0001"]
    options = "\n".join(f"  {'=' if o.id in live.key else '~'}{o.text}" for o in live.options)
    copy = tmp_path / "copy.gift"
    copy.write_text(f"::again:: {live.stem} {{\n{options}\n}}\n", encoding="utf-8")
    done = bank("import", str(copy), "--data", str(data), "--category", "cnn", "--skill", "s")
    assert done.returncode == 0, done.stdout
    assert "(again): warning: its stem is 100% like CNN-0001 (live) in the bank." in done.stdout


def test_an_export_imported_into_another_server_is_the_same_bank(tmp_path: Path) -> None:
    first, second = init(tmp_path / "a"), init(tmp_path / "b")
    out = tmp_path / "bank.zip"
    done = bank("export", "--format", "qti3", "--out", str(out), "--data", str(first))
    assert done.returncode == 0, done.stderr
    back = bank("import", str(out), "--data", str(second))
    assert back.returncode == 0, back.stdout
    exam = count_items(second) - count_items(second, "practice")  # practice is not exported
    assert f"Imported 0 new and 0 changed items ({exam} unchanged)." in back.stdout
    assert count_items(second, "live") == count_items(first, "live")
