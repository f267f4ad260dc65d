"""Hygiene: files only their owner reads, strict headers on pages, no codes in logs, honest 405s."""

from __future__ import annotations

import logging
import stat
from pathlib import Path
from typing import Any

import pytest
import requests

from client.settings import ClientSettings
from tests.conftest import ThreadServer, serve_process


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_are_readable_by_their_owner_only(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    engine = make_engine()
    engine.enrol(sqlite_live.url, sqlite_live.invite()["invitation"])
    server_db = Path(sqlite_live.ctx.settings.database_url.split("///", 1)[1])
    client_db = engine.settings.database
    for path in (server_db, client_db):
        files = [path, path.with_name(path.name + "-wal")]
        for file in files:
            assert file.exists() and mode(file) == 0o600, (file, oct(mode(file)))
    settings = sqlite_live.ctx.settings
    settings.save()
    assert mode(settings.data_dir / "server.json") == 0o600
    assert mode(settings.key_file) == mode(settings.kex_key_file) == 0o600


def test_an_existing_client_home_is_closed_to_others(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    settings = ClientSettings.load(home)
    assert mode(settings.home) == 0o700


def test_pages_carry_a_strict_policy_and_every_response_nosniff(sqlite_live: ThreadServer) -> None:
    page = requests.get(f"{sqlite_live.url}/verify/AAAA-BBBB-CCCC", timeout=10)
    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    api = requests.get(f"{sqlite_live.url}/api/v1/health", timeout=10)
    for response in (page, api):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_an_unknown_method_is_a_405_that_says_what_is_allowed(sqlite_live: ThreadServer) -> None:
    for method in ("TRACE", "DELETE", "PUT"):
        response = requests.request(method, f"{sqlite_live.url}/api/v1/submissions", timeout=10)
        assert response.status_code == 405, method
        assert response.headers["allow"] == "POST"
        assert response.json()["error"] == "method_not_allowed"


def test_verification_codes_never_reach_the_log(
    sqlite_live: ThreadServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="examgate.access"):
        requests.get(f"{sqlite_live.url}/api/v1/verify/QQQQ-WWWW-ZZZZ", timeout=10)
        requests.get(f"{sqlite_live.url}/verify/QQQQ-WWWW-ZZZZ", timeout=10)
    lines = [r.getMessage() for r in caplog.records if r.name == "examgate.access"]
    assert "GET /api/v1/verify/{code} 200" in " ".join(lines)
    assert not any("QQQQ" in line for line in lines)


def test_the_running_server_logs_no_codes_or_ids(tmp_path: Path) -> None:
    """The real ``serve`` command: uvicorn's own access log is off, the app's has templates."""
    with serve_process(tmp_path) as (url, _data):
        requests.get(f"{url}/verify/QQQQ-WWWW-ZZZZ", timeout=10)
        requests.get(f"{url}/api/v1/results/0123456789abcdef", timeout=10)
    log = (tmp_path / "serve.log").read_text()
    assert "GET /verify/{code}" in log and "/api/v1/results/{submission_id}" in log
    assert "QQQQ" not in log and "0123456789abcdef" not in log
