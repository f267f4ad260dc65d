"""``examgate-server bank`` as a user runs it: validate, stats, import (all or nothing), export."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import func, select

from server import db
from server.bank.loader import BUNDLED
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


def test_validate_reports_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    source = (BUNDLED / "cnn.toml").read_text()
    broken.write_text(source.replace('text = "28x28x6"', 'text = "All of the above"', 1))
    done = bank("validate", "--partial", str(broken))
    assert done.returncode == 1
    line = next(line for line in done.stdout.splitlines() if "all/none" in line)
    assert line.startswith(f"{broken}:") and "(CNN-0001): error:" in line


def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    data = init(tmp_path)
    before = count_items(data)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    shutil.copy(SAMPLES / "qti30_item.xml", mixed)
    shutil.copy(SAMPLES / "malformed" / "missing_feedback_qti30.xml", mixed)
    done = bank("import", str(mixed), "--data", str(data))
    assert done.returncode == 1
    assert "Nothing imported" in done.stdout and "has no feedback" in done.stdout
    assert count_items(data) == before

    bomb = bank(
        "import",
        str(SAMPLES / "malformed" / "entity_bomb.xml"),
        "--data",
        str(data),
        "--category",
        "cnn",
        "--skill",
        "x",
    )
    assert bomb.returncode == 1 and "refused" in bomb.stderr and "Traceback" not in bomb.stderr
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
    assert "Imported 9 items: 9 new, 0 updated, status draft." in done.stdout
    assert count_items(data) == before + 9 and count_items(data, "draft") == 9
    again = bank("validate", "--partial", str(review))
    assert again.returncode == 0, again.stdout
    assert "9 items, 0 practice items: 0 errors" in again.stdout


def test_export_writes_a_qti3_package(tmp_path: Path) -> None:
    out = tmp_path / "bank.zip"
    done = bank("export", "--format", "qti3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    back = bank("import", str(out), "--dry-run", "--status", "live")
    assert back.returncode == 0, back.stdout
