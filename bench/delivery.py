"""Delivery figures: how long saving an answer takes with synchronous=FULL, and how long an
outbox of finished exams takes to drain once the server is back.

    python -m bench.delivery [--answers 2000] [--outbox 100]

Writes bench/out/delivery.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import random
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn

from bench.__main__ import OUT, summary
from client.engine import Engine
from client.errors import ClientError
from client.keystore import FileKeyStore
from client.settings import ClientSettings
from client.simulate import answer_all
from server.app import create_app
from server.context import Context
from server.invitations import create_invitation
from server.provision import initialise
from server.settings import Settings


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * share))], 3)


class Server:
    """The real app under uvicorn in a thread, stoppable and startable on one port."""

    def __init__(self, ctx: Context, port: int) -> None:
        self.ctx, self.port = ctx, port
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        config = uvicorn.Config(
            create_app(self.ctx),
            host="127.0.0.1",
            port=self.port,
            log_level="error",
            lifespan="off",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def save_latency(work: Path, count: int, server: Server) -> dict[str, Any]:
    """Milliseconds from answer() to the answer being durable (journal append, fsync)."""
    settings = ClientSettings.load(work / "latency")
    engine = Engine(settings, FileKeyStore(settings.home))
    invitation = create_invitation(server.ctx, "deep-learning", "Latency", True)
    sitting = engine.enrol(server.url, invitation["invitation"])
    engine.download(sitting["id"])
    session = engine.unlock(sitting["id"], invitation["unlock_code"])
    session.start()
    times = []
    for n in range(count):
        item = session.current
        assert item is not None
        started = time.perf_counter()
        session.answer([item.options[n % len(item.options)].id])
        times.append((time.perf_counter() - started) * 1000)
    engine.close()
    return {
        **summary(times),
        "p99_ms": percentile(times, 0.99),
        "max_ms": round(max(times), 3),
    }


def drain(work: Path, count: int, server: Server) -> dict[str, Any]:
    """``count`` finished exams wait in one outbox while the server is down; then it returns."""
    settings = ClientSettings.load(work / "outbox")
    engine = Engine(settings, FileKeyStore(settings.home))
    for n in range(count):
        invitation = create_invitation(server.ctx, "deep-learning", f"C {n}", True)
        sitting = engine.enrol(server.url, invitation["invitation"])
        engine.download(sitting["id"])
        session = engine.unlock(sitting["id"], invitation["unlock_code"])
        answer_all(session, "first", random.Random(n))
        engine.seal(session)
    server.stop()
    for _ in range(3):  # the network is down: three failed rounds, recorded in the outbox
        with contextlib.suppress(ClientError):
            engine.sync(attempts=1)
    server.start()
    started = time.perf_counter()
    delivered = engine.sync(attempts=None)
    took = time.perf_counter() - started
    engine.close()
    return {
        "submissions": count,
        "delivered": len(delivered),
        "drain_s": round(took, 2),
        "per_submission_ms": round(took * 1000 / max(1, count), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery")
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--outbox", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        settings = Settings(work / "srv", f"sqlite:///{work / 'srv' / 'examgate.db'}")
        initialise(settings)
        ctx = Context.open(settings)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        server = Server(ctx, port)
        server.start()
        figures: dict[str, Any] = {
            "machine": f"{platform.machine()} python {platform.python_version()}",
            "answer_save": save_latency(work, args.answers, server),
            "outbox_drain": drain(work, args.outbox, server),
        }
        server.stop()
        ctx.dispose()
    save = figures["answer_save"]
    print(f"machine: {figures['machine']}")
    print(
        f"answer save (synchronous=FULL): n={save['n']} p50 {save['p50_ms']} ms, "
        f"p99 {save['p99_ms']} ms, max {save['max_ms']} ms, mean {save['mean_ms']} ms"
    )
    out = figures["outbox_drain"]
    print(
        f"outbox of {out['submissions']} after reconnect: {out['delivered']} acknowledged in "
        f"{out['drain_s']} s ({out['per_submission_ms']} ms each)"
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "delivery.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {OUT / 'delivery.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
