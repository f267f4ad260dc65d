"""``make demo``: a local server on SQLite with the bundled bank, and a candidate sitting an exam.

With a display and a system keyring the desktop client opens, enrolment filled in; without them
a simulated candidate sits the exam end to end and the certificate's path is printed. Either way
the server is stopped and the demo ends cleanly.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "demo-data"
BIN = Path(sys.executable).parent


def free_port(preferred: int = 8080) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise RuntimeError("no free port")


def run_json(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [str(BIN / args[0]), *args[1:]], check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout))


def wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("The demo server stopped while starting; see demo-data/server.log.")
        try:
            with urllib.request.urlopen(url + "/api/v1/health", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("The demo server did not answer in 30 seconds; see demo-data/server.log.")


def has_desktop() -> bool:
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False
    from client.keystore import keyring_available

    return keyring_available()


def demo_employer(server_dir: Path) -> tuple[str, str]:
    """The demo employer's owner, with a password made once and kept in demo-data (0600)."""
    email = "owner@demo-employer.example"
    saved = DATA / "dashboard-password.txt"
    if saved.exists():
        return email, saved.read_text(encoding="utf-8").strip()
    password = secrets.token_urlsafe(12)
    subprocess.run(
        [str(BIN / "examgate-server"), "user", "add", "--data", str(server_dir), "--org",
         "demo-employer", "--email", email, "--role", "owner", "--name", "Demo Owner",
         "--password-stdin"],
        input=password + "\n", text=True, check=True, capture_output=True,
    )  # fmt: skip
    fd = os.open(saved, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(password + "\n")
    return email, password


def main() -> int:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_dir = DATA / "server"
    init = run_json("examgate-server", "init", "--data", str(server_dir), "--public-url", url)
    print(f"Server ready in {server_dir} ({init['items']} items; key {init['fingerprint']})")
    log = (DATA / "server.log").open("ab")
    server = subprocess.Popen(
        [
            str(BIN / "examgate-server"),
            "serve",
            "--data",
            str(server_dir),
            "--port",
            str(port),
            "--public-url",
            url,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_healthy(url, server)
        print(f"Server listening on {url} (API document: {url}/openapi.json)")
        email, password = demo_employer(server_dir)
        print(f"Employer dashboard: {url}/dashboard/ (sign in as {email}, password {password})")
        invitation = run_json(
            "examgate-server",
            "invite",
            "--data",
            str(server_dir),
            "--candidate",
            "Demo Candidate",
            "--json",
        )
        home = DATA / f"client-{invitation['sitting_id']}"
        if has_desktop():
            print(f"Opening the client; invitation {invitation['invitation']}")
            return subprocess.call(
                [
                    str(BIN / "examgate-client"),
                    "--home",
                    str(home),
                    "--server",
                    url,
                    "--invite",
                    str(invitation["invitation"]),
                ]
            )
        print("No display or keyring here: a simulated candidate sits the exam instead.")
        done = subprocess.run(
            [
                str(BIN / "examgate-client"),
                "simulate",
                "--server",
                url,
                "--invite",
                str(invitation["invitation"]),
                "--home",
                str(home),
                "--share",  # the simulated candidate lets the demo employer see the result
                "--json",
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            print(done.stderr.strip(), file=sys.stderr)
            return done.returncode
        summary = json.loads(done.stdout)
        result = summary["result"]
        print(
            f"Sat {summary['answered']} of {summary['items']} questions; overall level: "
            f"{result['overall']}"
        )
        for name, level in result["categories"].items():
            print(f"  {name}: {level}")
        integrity = result["integrity"]
        print(f"Integrity: {integrity['outcome']}")
        for flag in integrity["flags"]:
            print(f"  {flag['reason']}: {flag['summary']}")
        print(f"Verify at {url}/verify/{result['verification_code']}")
        print(f"Certificate: {summary['certificate']}")
        checked = subprocess.run(
            [
                str(BIN / "examgate-server"),
                "verify",
                str(summary["certificate"]),
                "--authority",
                str(server_dir / "keys" / "authority.pem"),
            ],
            capture_output=True,
            text=True,
        )
        first = (checked.stdout.strip().splitlines() or [checked.stderr.strip()])[0]
        print(f"Its signature, checked with examgate-server verify: {first}")
        print(f"Its Open Badges credential: {url}/verify/{result['verification_code']}/credential")
        print(
            "The demo server stops now, so the link above works only while a server runs on "
            f"demo-data. To keep it running: {BIN / 'examgate-server'} serve --data "
            f"{server_dir} --port {port}"
        )
        return 0
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
