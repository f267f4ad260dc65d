"""Time the path of a sitting: sealing and opening packages, scoring and certifying, loading and
validating the bank, and whole sittings against a real server process (SQLite), one candidate
after another.

    python -m bench [--sittings N]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import requests

from certificates.render import CertificateData, render_certificate
from client.engine import Engine
from client.keystore import FileKeyStore
from client.settings import ClientSettings
from client.simulate import answer_all
from server.bank.loader import bundled_files, load_files, practice_files
from server.bank.validate import Targets, validate
from shared import canonical, crypto

OUT = Path(__file__).with_name("out")


def timed(work: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


def summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "n": len(times),
        "mean_ms": round(statistics.fmean(times), 2),
        "p50_ms": round(ordered[len(ordered) // 2], 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 2),
    }


def crypto_figures() -> dict[str, dict[str, float]]:
    device = crypto.generate_kex_key()
    payload = canonical.dumps({"items": [{"stem": "x" * 300, "options": ["y" * 60] * 4}] * 20})
    header = {"package_id": "bench"}
    sealed = crypto.seal(
        payload, header=header, recipient_public=crypto.public_bytes(device), unlock_code="A" * 12
    )
    signer = crypto.generate_signing_key()
    document = crypto.sign_document(sealed, signer)
    public = crypto.public_bytes(signer)
    data = CertificateData(
        "Ada Lovelace",
        "Deep learning skills test",
        date(2026, 11, 27),
        "developing",
        {"Sequence models": "accomplished"},
        "AAAA-BBBB-CCCC",
        "http://127.0.0.1:8080/verify/AAAA-BBBB-CCCC",
    )
    return {
        "seal_package": summary(
            timed(
                lambda: crypto.seal(
                    payload,
                    header=header,
                    recipient_public=crypto.public_bytes(device),
                    unlock_code="A" * 12,
                ),
                20,
            )
        ),
        "open_package": summary(
            timed(lambda: crypto.open_sealed(sealed, recipient=device, unlock_code="A" * 12), 20)
        ),
        "verify_package_signature": summary(
            timed(lambda: crypto.verify_document(document, public), 200)
        ),
        "render_certificate": summary(timed(lambda: render_certificate(data), 20)),
    }


def trust_figures(work: Path) -> dict[str, dict[str, float]]:
    """What the trust boundary costs: the unlock commitments a package carries (server), one
    proctor-code check (client), a journal append (encrypted, chained, MAC'd, fsync'd), and the
    server's judgement of a 300-event log."""
    from client.journal import Journal
    from client.session import UnlockChecks
    from client.store import connect
    from server.integrity import Facts, judge
    from shared import events
    from shared.policy import Policy

    secret = bytes(range(32))
    commitments = crypto.unlock_commitments(secret, "bench")
    checks = UnlockChecks.from_json(commitments)
    response = crypto.proctor_response(secret, "bench", str(checks.challenge(0)))
    server_kex = crypto.generate_kex_key()
    journal = Journal(connect(work / "journal.db"), "bench", bytes(32))
    chain_public = journal.open_chain(crypto.public_bytes(server_kex))
    clock = iter(range(10**9))

    def append() -> None:
        at = next(clock)
        times = {"at_ms": 10**12 + at, "elapsed_ms": at, "mono_ms": at, "uptime_ms": at}
        journal.append("heartbeat", {}, times)

    appended = timed(append, 300)
    log = events.parse(journal.events)
    first_key = crypto.shared_key(
        server_kex, crypto.b64decode(chain_public), events.CHAIN_INFO + b"bench"
    )
    facts = Facts(
        sitting_id="bench",
        offline=True,
        policy=Policy(),
        form_ids=[],
        sitting_ms=480_000,
        proctor_secret=secret,
        opens_ms=0,
        closes_ms=10**13,
        received_ms=10**12 + 400,
        end_reason="finished",
        chain_first_key=first_key,
    )
    return {
        "unlock_commitments_x8": summary(
            timed(lambda: crypto.unlock_commitments(secret, "bench"), 5)
        ),
        "check_one_proctor_code": summary(timed(lambda: checks.matches(0, response), 20)),
        "journal_append": summary(appended),
        "judge_300_events": summary(timed(lambda: judge(log, facts), 20)),
    }


def bank_figures() -> dict[str, dict[str, float]]:
    """Loading and validating the whole bundled bank, as `bank validate` does."""
    files, practice = bundled_files(), practice_files()
    items = load_files(files)
    return {
        "load_bank": summary(timed(lambda: load_files(files), 10)),
        "validate_bank": summary(
            timed(lambda: validate(items, load_files(practice), Targets()), 10)
        ),
    }


def one_sitting(url: str, invitation: str, home: Path, seed: int) -> dict[str, float]:
    """One candidate from enrolment to certificate; milliseconds per step."""
    settings = ClientSettings.load(home)
    engine = Engine(settings, FileKeyStore(settings.home))
    marks = [("start", time.perf_counter())]
    sitting_id = engine.enrol(url, invitation)["id"]
    marks.append(("enrol", time.perf_counter()))
    engine.download(sitting_id)
    marks.append(("download", time.perf_counter()))
    session = engine.unlock(sitting_id, engine.release_code(sitting_id))
    marks.append(("unlock", time.perf_counter()))
    answer_all(session, "random", random.Random(seed))
    engine.seal(session)
    marks.append(("answer_and_seal", time.perf_counter()))
    [delivered] = engine.sync()
    marks.append(("upload_and_score", time.perf_counter()))
    engine.save_certificate(delivered.submission_id)
    marks.append(("certificate", time.perf_counter()))
    engine.close()
    steps = {name: (at - marks[i][1]) * 1000 for i, (name, at) in enumerate(marks[1:])}
    steps["whole_sitting"] = (marks[-1][1] - marks[0][1]) * 1000
    return steps


def sittings_figures(count: int, work: Path) -> dict[str, dict[str, float]]:
    server_dir = work / "server"
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "examgate-server"), "init", "--data", str(server_dir)],
        check=True,
        capture_output=True,
    )
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(bin_dir / "examgate-server"), "serve", "--data", str(server_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    steps: dict[str, list[float]] = {}
    try:
        for _ in range(200):
            try:
                requests.get(url + "/api/v1/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        for n in range(count):
            out = subprocess.run(
                [str(bin_dir / "examgate-server"), "invite", "--data", str(server_dir), "--json"],
                check=True,
                capture_output=True,
                text=True,
            )
            invitation = json.loads(out.stdout)["invitation"]
            for name, ms in one_sitting(url, invitation, work / f"client-{n}", n).items():
                steps.setdefault(name, []).append(ms)
    finally:
        server.terminate()
        server.wait(timeout=15)
    return {name: summary(times) for name, times in steps.items()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--sittings", type=int, default=30)
    args = parser.parse_args()
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()} {platform.processor() or ''} "
        f"python {platform.python_version()}".strip(),
        "crypto": crypto_figures(),
        "bank": bank_figures(),
    }
    with tempfile.TemporaryDirectory() as work:
        figures["trust"] = trust_figures(Path(work))
        figures["sittings"] = sittings_figures(args.sittings, Path(work))
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    crypto_, sittings = figures["crypto"], figures["sittings"]
    figures["ratios"] = {
        "open_over_verify": round(
            crypto_["open_package"]["mean_ms"] / crypto_["verify_package_signature"]["mean_ms"], 1
        ),
        "certificate_share_of_scoring": round(
            crypto_["render_certificate"]["mean_ms"] / sittings["upload_and_score"]["mean_ms"], 2
        ),
        # An offline search of one unlock commitment: half of 2^50 responses, one check each.
        "unlock_search_core_years": round(
            2**49 * figures["trust"]["check_one_proctor_code"]["mean_ms"] / 1000 / 86400 / 365
        ),
    }
    print(f"machine: {figures['machine']}, peak RSS {figures['peak_rss_mib']} MiB")
    print(f"{'step':32} {'n':>4} {'mean ms':>9} {'p50 ms':>9} {'p95 ms':>9}")
    for group in ("crypto", "trust", "bank", "sittings"):
        for name, row in figures[group].items():
            print(
                f"{group + '.' + name:32} {row['n']:>4} {row['mean_ms']:>9} {row['p50_ms']:>9} "
                f"{row['p95_ms']:>9}"
            )
    for name, value in figures["ratios"].items():
        print(f"ratio {name}: {value}")
    OUT.mkdir(exist_ok=True)
    (OUT / "sitting.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {OUT / 'sitting.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
