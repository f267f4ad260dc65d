"""Delivery figures: how long saving an answer takes with synchronous=FULL, how long an
outbox of finished exams takes to drain once the server is back, and how long a candidate of
an adaptive sitting waits for each next question (answer sent, item chosen, item shown).

    python -m bench.delivery [--answers 2000] [--outbox 100] [--adaptive 20]

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


def knows(
    ctx: Context, sitting_id: str, presented: str, theta: float, rng: random.Random
) -> list[str]:
    """A simulated candidate of ability ``theta`` answers the served question: the key with
    the 3PL model's probability, else a wrong option (read from the server's records: this is
    the benchmark's candidate, not the client)."""
    from sqlalchemy import select

    from server import db
    from server.bank.store import cached_items
    from server.irt import p3
    from shared import canonical

    with ctx.engine.connect() as connection:
        entries = connection.execute(
            select(db.adaptive_steps.c.entry).where(
                db.adaptive_steps.c.sitting_id == sitting_id, db.adaptive_steps.c.entry.is_not(None)
            )
        ).scalars()
        entry = next(e for e in map(canonical.loads, entries) if e["id"] == presented)
        item = cached_items(ctx, connection)[entry["item"]]
    right = rng.random() < float(p3(theta, item.a, item.b, item.c))
    chosen = [shown for shown, source in entry["options"] if (source in item.key) == right]
    return chosen if right else [rng.choice(chosen)]


def adaptive_steps(work: Path, sittings: int, server: Server) -> dict[str, Any]:
    """``sittings`` adaptive sittings one after another by candidates of abilities drawn from
    N(0, 1), each answer taking 20 s on the server's clock (shifted, so eight minutes pass in
    moments): milliseconds from sending an answer to the next question being kept and on
    screen, as the engine does it."""
    from sqlalchemy import select

    from client.session import SystemClock
    from server import db
    from shared import canonical

    shift = [0]
    real = server.ctx.now_ms
    server.ctx.now_ms = lambda: real() + shift[0]

    class Shifted(SystemClock):  # the candidate's computer, moved on with the server
        def wall_ms(self) -> int:
            return super().wall_ms() + shift[0]

        def mono_ms(self) -> int:
            return super().mono_ms() + shift[0]

        def uptime_ms(self) -> int | None:
            uptime = super().uptime_ms()
            return None if uptime is None else uptime + shift[0]

    with server.ctx.engine.begin() as connection:
        row = connection.execute(
            select(db.assessments.c.blueprint).where(db.assessments.c.slug == "deep-learning")
        ).scalar_one()
        connection.execute(
            db.assessments.update()
            .where(db.assessments.c.slug == "deep-learning")
            .values(blueprint=canonical.to_text({**canonical.loads(row), "adaptive": True}))
        )
    times: list[float] = []
    lengths: list[int] = []
    rng = random.Random(7)
    for n in range(sittings):
        settings = ClientSettings.load(work / f"adaptive-{n}")
        engine = Engine(
            settings, FileKeyStore(settings.home), Shifted(), request_clock=server.ctx.now_ms
        )
        invitation = create_invitation(server.ctx, "deep-learning", f"A {n}", False)
        sitting = engine.enrol(server.url, invitation["invitation"])
        engine.download(sitting["id"])
        session = engine.unlock(sitting["id"], engine.release_code(sitting["id"]))
        session.start()
        theta = rng.gauss(0.0, 1.0)
        while session.state == "running" and not session.fell_back:
            if session.awaiting():
                shift[0] += 20_000
                started = time.perf_counter()
                engine.next_question(session)
                times.append((time.perf_counter() - started) * 1000)
                continue
            item = session.current
            assert item is not None
            session.answer(knows(server.ctx, session.sitting_id, item.id, theta, rng))
            session.advance()
        lengths.append(len([i for i in session.items if i.id in session.positions]))
        engine.close()
    server.ctx.now_ms = real
    return {
        **summary(times),
        "p95_ms": percentile(times, 0.95),
        "p99_ms": percentile(times, 0.99),
        "sittings": sittings,
        "items_per_sitting": round(sum(lengths) / max(1, len(lengths)), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery")
    parser.add_argument("--answers", type=int, default=2000)
    parser.add_argument("--outbox", type=int, default=100)
    parser.add_argument("--adaptive", type=int, default=20)
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
            "adaptive_step": adaptive_steps(work, args.adaptive, server),
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
    step = figures["adaptive_step"]
    print(
        f"adaptive sittings: {step['sittings']}, {step['items_per_sitting']} questions each; "
        f"next question p50 {step['p50_ms']} ms, p95 {step['p95_ms']} ms, p99 {step['p99_ms']} ms"
    )
    OUT.mkdir(exist_ok=True)
    (OUT / "delivery.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {OUT / 'delivery.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
