"""Practice: fetched once from the server, then answered offline with explanations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from client.practice import PracticeRound
from server.bank.loader import bundled_files, load_files
from server.context import Context
from server.settings import Settings
from tests.conftest import Templates, ThreadServer


def test_the_practice_set_is_public_and_carries_answers(sqlite_live: ThreadServer) -> None:
    items = requests.get(sqlite_live.url + "/api/v1/practice", timeout=5).json()["items"]
    assert len(items) >= 20
    seeds = [item for item in items if item["id"] <= "PRC-0005"]
    assert [item["key"] for item in seeds] == [["c"], ["a"], ["a"], ["d"], ["c"]]
    assert all(option["feedback"] for item in items for option in item["options"])
    assert not {"a", "b", "c", "status"} & set(items[0])  # no item parameters
    exam_stems = {item.stem for item in load_files(bundled_files())}
    assert not exam_stems & {item["stem"] for item in items}


def test_practice_works_offline_once_fetched(
    tmp_path: Path, make_engine: Any, templates: Templates
) -> None:
    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv.db'}")
    templates.initialise(settings)
    engine = make_engine()
    with ThreadServer(Context.open(settings)) as server:
        fetched = engine.fetch_practice(server.url)
    # The server is gone; the questions are still here.
    assert engine.practice_items() == fetched
    round_ = PracticeRound(engine.practice_items(), "cnn")
    assert round_.items and all(item.category == "cnn" for item in round_.items)
    item = round_.current
    assert item is not None
    wrong = next(o.id for o in item.options if o.id not in item.key)
    verdict = round_.submit([wrong])
    assert not verdict.correct and verdict.key == item.key
    assert set(verdict.explanations) == {o.id for o in item.options}
    assert round_.submit(list(item.key)) == verdict  # one submission per question
    round_.next()
    assert round_.current is not None
    assert round_.submit(list(round_.current.key)).correct
    assert round_.score == (1, 2)


def test_an_unknown_category_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown category"):
        PracticeRound([], "astrology")
