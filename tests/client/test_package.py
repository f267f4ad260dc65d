"""Bad packages on the client: tampered, for another device, wrong code, expired."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from client.errors import PackageNotReady
from shared.errors import CannotOpen, InvalidSignature, WrongDevice
from tests.conftest import ManualClock, ThreadServer


def downloaded(
    make_engine: Any, live: ThreadServer, offline: bool = True
) -> tuple[Any, str, dict[str, Any]]:
    engine = make_engine()
    invitation = live.invite(offline=offline)
    sitting = engine.enrol(live.url, invitation["invitation"])
    engine.download(sitting["id"])
    return engine, sitting["id"], invitation


def test_wrong_unlock_code_opens_nothing(sqlite_live: ThreadServer, make_engine: Any) -> None:
    engine, sitting_id, invitation = downloaded(make_engine, sqlite_live)
    with pytest.raises(CannotOpen) as error:
        engine.unlock(sitting_id, "AAAA-BBBB-CCCC")
    assert str(error.value) == "The exam package could not be opened: the unlock code is not right."
    assert len(engine.journal(sitting_id).events) == 1  # only the download's chain_opened
    session = engine.unlock(sitting_id, invitation["unlock_code"].lower())
    assert session.total == 20


@pytest.mark.parametrize("part", ["ciphertext", "header"])
def test_a_tampered_package_is_refused(
    sqlite_live: ThreadServer, make_engine: Any, part: str
) -> None:
    engine, sitting_id, invitation = downloaded(make_engine, sqlite_live)
    package = engine.state.package(sitting_id)
    tampered = copy.deepcopy(package)
    if part == "ciphertext":
        text = tampered["body"]["ciphertext"]
        tampered["body"]["ciphertext"] = text[:50] + ("A" if text[50] != "A" else "B") + text[51:]
    else:
        tampered["body"]["header"]["duration_s"] = 48_000
    engine.state.save_package(sitting_id, tampered, engine.header(sitting_id))
    with pytest.raises(InvalidSignature) as error:
        engine.unlock(sitting_id, invitation["unlock_code"])
    assert "not signed by the expected key" in str(error.value)


def test_a_package_for_another_device_is_refused(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    owner, sitting_id, invitation = downloaded(make_engine, sqlite_live)
    thief = make_engine("thief")
    thief.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    thief.state.save_sitting(
        {
            "id": sitting_id,
            "assessment": "x",
            "duration_s": 480,
            "candidate": "x",
            "offline": True,
            "state": "prepared",
            "expires_ms": 0,
        }
    )
    thief.state.save_package(sitting_id, owner.state.package(sitting_id), owner.header(sitting_id))
    with pytest.raises(WrongDevice) as error:
        thief.unlock(sitting_id, invitation["unlock_code"])
    assert str(error.value) == "This exam package was prepared for another device."


def test_an_expired_package_is_refused(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine, sitting_id, invitation = downloaded(make_engine, sqlite_live)
    clock.advance(31 * 86_400_000)
    with pytest.raises(PackageNotReady):
        engine.unlock(sitting_id, invitation["unlock_code"])


def test_a_package_opens_only_inside_its_sittings_window(
    sqlite_live: ThreadServer, make_engine: Any, clock: ManualClock
) -> None:
    engine = make_engine()
    opens = clock.wall + 3_600_000
    invitation = sqlite_live.invite(offline=True, opens_ms=opens, closes_ms=opens + 7_200_000)
    sitting = engine.enrol(sqlite_live.url, invitation["invitation"])
    engine.download(sitting["id"])
    with pytest.raises(PackageNotReady, match="can be started from"):
        engine.unlock(sitting["id"], invitation["unlock_code"])
    clock.advance(4 * 3_600_000)
    with pytest.raises(PackageNotReady, match="ended on"):
        engine.unlock(sitting["id"], invitation["unlock_code"])
    assert len(engine.journal(sitting["id"]).events) == 1  # only the download's chain_opened
    clock.advance(-2 * 3_600_000 - 1_800_000)  # back inside the window: it opens
    assert engine.unlock(sitting["id"], invitation["unlock_code"]).total == 20


def test_a_downloaded_sitting_runs_with_the_server_gone(
    tmp_path: Any, make_engine: Any, templates: Any
) -> None:
    from server.context import Context
    from server.settings import Settings

    settings = Settings(tmp_path / "srv", f"sqlite:///{tmp_path / 'srv.db'}")
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as server:
        engine, sitting_id, invitation = downloaded(make_engine, server)
    # The server is stopped: the exam still opens and runs from the stored package.
    assert engine.sittings()[0]["downloaded"] is True
    session = engine.unlock(sitting_id, invitation["unlock_code"])
    session.start()
    session.answer([session.items[0].options[0].id])
    assert session.answered() == 1
