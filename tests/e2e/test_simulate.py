"""End to end over real HTTP: a real server process, ``examgate-client simulate`` to a PDF."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import need, postgres_database, serve_process, venv_bin


def invite(data: Path, *extra: str) -> dict[str, str]:
    out = subprocess.run(
        [venv_bin("examgate-server"), "invite", "--data", str(data), "--json", *extra],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def simulate(url: str, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            venv_bin("examgate-client"),
            "simulate",
            "--server",
            url,
            "--home",
            str(home),
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_simulate_sits_an_online_exam_to_a_certificate(
    served_process: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = served_process
    invitation = invite(data, "--candidate", "Grace Hopper")
    done = simulate(
        url, tmp_path / "client", "--invite", invitation["invitation"], "--strategy", "first"
    )
    assert done.returncode == 0, done.stderr
    assert "no system keyring" in done.stderr  # keys went to a 0600 file, and it says so
    key_file = tmp_path / "client" / "device-keys.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    summary = json.loads(done.stdout)
    assert summary["submission_id"] and summary["answered"] == 20
    result = summary["result"]
    assert result["overall"] in ("beginning", "developing", "accomplished")
    assert len(result["categories"]) == 4

    need(
        all(shutil.which(tool) for tool in ("pdftotext", "pdftoppm", "zbarimg")),
        "EXAMGATE_REQUIRE_PDF_TOOLS",
        "poppler-utils (pdftotext, pdftoppm) or zbar-tools (zbarimg) are missing",
    )
    text = subprocess.run(
        ["pdftotext", "-layout", summary["certificate"], "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "Grace Hopper" in text
    assert result["overall"].capitalize() in text
    for name, level in result["categories"].items():
        line = next(line for line in text.splitlines() if name in line)
        assert level.capitalize() in line, (name, level, line)
    assert result["verification_code"] in text

    check = requests.get(f"{url}/api/v1/verify/{result['verification_code']}", timeout=5).json()
    assert check["genuine"] is True and check["candidate"] == "Grace Hopper"

    # The QR code on the page decodes to the verification address, which vouches for it.
    page = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-singlefile", summary["certificate"], str(page)],
        check=True,
    )
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", f"{page}.png"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert decoded == f"{url}/verify/{result['verification_code']}"
    assert "Genuine certificate" in requests.get(decoded, timeout=5).text


def test_simulate_sits_an_offline_exam_with_the_proctors_code(
    served_process: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = served_process
    invitation = invite(data, "--offline")
    wrong = simulate(
        url, tmp_path / "c1", "--invite", invitation["invitation"], "--unlock", "AAAA-BBBB-CCCC"
    )
    assert wrong.returncode == 1
    assert wrong.stderr.strip().endswith("the unlock code is not right.")
    assert "Traceback" not in wrong.stderr
    right = simulate(
        url,
        tmp_path / "c1",
        "--invite",
        invitation["invitation"],
        "--unlock",
        invitation["unlock_code"],
    )
    assert right.returncode == 0, right.stderr
    assert json.loads(right.stdout)["end_reason"] == "finished"


def test_an_unreachable_server_is_a_sentence_not_a_traceback(tmp_path: Path) -> None:
    from tests.conftest import free_port

    done = simulate(f"http://127.0.0.1:{free_port()}", tmp_path / "c", "--invite", "AAAA-BBBB")
    assert done.returncode == 1
    assert "cannot be reached" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.postgres
def test_two_workers_on_postgresql_serve_sittings(tmp_path: Path) -> None:
    with postgres_database() as database, serve_process(tmp_path, database, workers=2) as served:
        url, data = served
        for n in range(3):
            done = simulate(url, tmp_path / f"c{n}", "--invite", invite(data)["invitation"])
            assert done.returncode == 0, done.stderr
            assert json.loads(done.stdout)["answered"] == 20
        text = (tmp_path / "serve.log").read_text()
        lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        started = {e["pid"] for e in lines if e["message"] == "server process started"}
        assert len(started) == 2
        served = {e["pid"] for e in lines if e["logger"] == "examgate.access"}
        assert served <= started  # every request answered by one of the two


def test_without_a_public_address_links_follow_the_port_served(tmp_path: Path) -> None:
    """No --public-url anywhere: the address printed and put in links is the one listened on,
    not a default port nobody serves."""
    with serve_process(tmp_path, public_url=False) as (url, _data):
        document = requests.get(f"{url}/openapi.json", timeout=10).json()
        assert document["servers"][0]["url"] == f"{url}/api/v1"
    assert f"Public address {url}" in (tmp_path / "serve.log").read_text()
