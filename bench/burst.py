"""The end-of-exam burst: N real signed submissions arriving within a window, and N devices
downloading their packages at once.

    python -m bench.burst --n 2000 [--database sqlite|URL] [--workers N] [--window 10]
    python -m bench.burst --downloads 500 [--database ...] [--workers N]
    python -m bench.burst --matrix small        # what `make bench` runs: both databases

Preparation is real and paid once: a server is initialised, N candidates enrol, download,
unlock, answer and seal with the project's own engine (offline sittings, so their window
does not pass while a snapshot waits), and the snapshot (the server's data and database, the
sealed documents and the devices' signing keys) is kept in ``bench/out/snapshots`` and reused
by later runs for up to a day. A run restores the snapshot, starts ``examgate-server serve``,
and fires: request i leaves at i x window / N, each on a new connection, signed at that
moment. It prints p50/p95/p99, throughput, errors by status, the rows stored against the
unique submission ids, how long the certificate jobs took to drain, and the server's CPU
time, and writes ``bench/out/burst.json`` (one object per run under ``runs``).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psutil
import psycopg
import requests
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text

from shared import crypto
from shared.protocol import (
    API_PREFIX,
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_signing_bytes,
)

OUT = Path(__file__).with_name("out")
SNAPSHOTS = OUT / "snapshots"
PG_ADMIN = os.environ.get("EXAMGATE_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SNAPSHOT_MAX_AGE_S = 86_400
BIN = Path(sys.executable).parent
# Preparation makes N enrolments from one address: the server is told to allow them.
PREP_LIMITS = {"enrol": [100_000, 60], "start": [100_000, 60], "device": [100_000, 60]}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _schema_head() -> str:
    from alembic.config import Config

    from server.db import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(config).get_current_head())


def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def _pg(statement: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(statement)


# -- a server process ------------------------------------------------------------------------


@contextlib.contextmanager
def _spawned(command: list[str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A process writing to ``log``, stopped (then killed, if need be) on the way out."""
    with log.open("ab") as output:
        process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def job_worker(data: Path, log: Path) -> contextlib.AbstractContextManager[Any]:
    """``examgate-server worker`` in a process of its own (PostgreSQL)."""
    return _spawned([str(BIN / "examgate-server"), "worker", "--data", str(data)], log)


@contextlib.contextmanager
def running_server(data: Path, workers: int, log: Path, jobs: bool = True) -> Iterator[Any]:
    port = _free_port()
    command = [str(BIN / "examgate-server"), "serve", "--data", str(data), "--port", str(port)]
    command += ["--workers", str(workers)] + ([] if jobs else ["--no-jobs"])
    url = f"http://127.0.0.1:{port}"
    with _spawned(command, log) as process:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(url + "/ready", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        time.sleep(0.5 if workers > 1 else 0)  # every process listening
        yield process, url


def database_cpu_seconds() -> float:
    """CPU time of this machine's PostgreSQL processes (0 when none run here)."""
    total = 0.0
    for each in psutil.process_iter(["name"]):
        if each.info["name"] in ("postgres", "postmaster"):
            with contextlib.suppress(psutil.Error):
                times = each.cpu_times()
                total += times.user + times.system
    return total


def own_cpu_seconds() -> float:
    """CPU time of the load generator (this process and its children)."""
    times = psutil.Process().cpu_times()
    return times.user + times.system + times.children_user + times.children_system


def cpu_seconds(process: subprocess.Popen[bytes]) -> float:
    try:
        parent = psutil.Process(process.pid)
        total = 0.0
        for each in [parent, *parent.children(recursive=True)]:
            times = each.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


# -- preparation ---------------------------------------------------------------------------


def _candidate(args: tuple[str, str, str, str, int]) -> dict[str, str]:
    """One candidate through the real engine: enrol, download, unlock, answer, seal."""
    from client.engine import Engine
    from client.keystore import FileKeyStore
    from client.settings import ClientSettings
    from client.simulate import answer_all

    url, invitation, unlock_code, home, seed = args
    settings = ClientSettings.load(Path(home))
    engine = Engine(settings, FileKeyStore(settings.home))
    try:
        sitting = engine.enrol(url, invitation)
        engine.download(sitting["id"])
        session = engine.unlock(sitting["id"], unlock_code)
        answer_all(session, "random", random.Random(seed))
        submission_id = engine.seal(session)
        document = engine.db.execute(
            "SELECT document FROM outbox WHERE submission_id = ?", (submission_id,)
        ).fetchone()[0]
        api = engine.api()
        return {
            "submission_id": submission_id,
            "device_id": str(api.device_id),
            "key": crypto.b64encode(engine.keys.signing.private_bytes_raw()),
            "document": document,
        }
    finally:
        engine.close()


def _init_server(data: Path, database_url: str) -> None:
    from server.provision import initialise
    from server.settings import Limit, Settings

    settings = Settings(data_dir=data, database_url=database_url)
    limits = dict(settings.limits)
    limits.update({k: Limit(*v) for k, v in PREP_LIMITS.items()})
    import dataclasses

    initialise(dataclasses.replace(settings, limits=limits))
    dataclasses.replace(settings, limits=limits).save()


def _invite(data: Path, n: int) -> list[dict[str, Any]]:
    from server.context import Context
    from server.invitations import create_invitation
    from server.settings import Settings

    ctx = Context.open(Settings.load(data))
    try:
        return [
            create_invitation(ctx, "deep-learning", f"Candidate {i:05d}", True) for i in range(n)
        ]
    finally:
        ctx.dispose()


def _fresh(folder: Path) -> bool:
    meta = folder / "meta.json"
    if not meta.exists():
        return False
    found = json.loads(meta.read_text())
    return bool(
        time.time() - found["created_s"] < SNAPSHOT_MAX_AGE_S and found["schema"] == _schema_head()
    )


def snapshot(kind: str, n: int) -> Path:
    """The prepared snapshot for ``kind`` (sqlite or postgresql) with at least ``n`` candidates:
    a fresh one is reused (a larger one too: its first ``n`` are fired)."""
    larger = sorted(
        (int(p.name.split("-")[1]), p) for p in SNAPSHOTS.glob(f"{kind}-*") if _fresh(p)
    )
    for size, found in larger:
        if size >= n:
            return found
    if kind == "postgresql":  # made from SQLite's, which may be larger
        sizes = sorted(int(p.name.split("-")[1]) for p in SNAPSHOTS.glob("sqlite-*") if _fresh(p))
        n = next((size for size in sizes if size >= n), n)
    folder = SNAPSHOTS / f"{kind}-{n}"
    if _fresh(folder):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    if kind == "postgresql":  # the same candidates, copied row for row from SQLite's snapshot
        return _copy_to_postgres(snapshot("sqlite", n), folder, n)
    folder.mkdir(parents=True)
    data = folder / "server"
    database = f"sqlite:///{data / 'examgate.db'}"
    started = time.monotonic()
    _init_server(data, database)
    invitations = _invite(data, n)
    print(f"preparing {n} candidates ({kind}) ...", flush=True)
    with (
        tempfile.TemporaryDirectory() as homes,
        running_server(data, 1, folder / "prep.log") as (_, url),
    ):
        work = [
            (url, inv["invitation"], inv["unlock_code"], f"{homes}/c{i}", i)
            for i, inv in enumerate(invitations)
        ]
        with concurrent.futures.ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
            prepared = list(pool.map(_candidate, work, chunksize=8))
    with (folder / "submissions.jsonl").open("w") as out:
        for entry in prepared:
            out.write(json.dumps(entry) + "\n")
    (folder / "meta.json").write_text(
        json.dumps(
            {
                "created_s": time.time(),
                "schema": _schema_head(),
                "n": n,
                "database": database,
                "prepare_s": round(time.monotonic() - started, 1),
            }
        )
    )
    print(f"prepared in {time.monotonic() - started:.0f} s", flush=True)
    return folder


def _copy_to_postgres(source: Path, folder: Path, n: int) -> Path:
    from server import db

    name = f"examgate_bench_snap_{n}"
    _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg(f'CREATE DATABASE "{name}"')
    shutil.copytree(source, folder)
    (folder / "meta.json").unlink()
    url = _pg_url(name)
    _set_database(folder / "server", url)
    target = db.make_engine(url)
    origin = db.make_engine(f"sqlite:///{source / 'server' / 'examgate.db'}", reading=True)
    try:
        db.migrate(target)
        with origin.connect() as reading, target.begin() as writing:
            for table in db.metadata.sorted_tables:
                writing.execute(table.delete())
                rows = [dict(row) for row in reading.execute(table.select()).mappings()]
                if rows:
                    writing.execute(table.insert(), rows)
            writing.exec_driver_sql("SELECT setval('jobs_id_seq', (SELECT max(id) FROM jobs))")
    finally:
        target.dispose()
        origin.dispose()
    meta = json.loads((source / "meta.json").read_text())
    meta["database"] = url
    (folder / "meta.json").write_text(json.dumps(meta))
    return folder


@contextlib.contextmanager
def restored(folder: Path, kind: str) -> Iterator[tuple[Path, str]]:
    """A working copy of the snapshot: its data folder, and its database."""
    meta = json.loads((folder / "meta.json").read_text())
    with tempfile.TemporaryDirectory() as work:
        data = Path(work) / "server"
        shutil.copytree(folder / "server", data)
        if kind == "sqlite":
            url = f"sqlite:///{data / 'examgate.db'}"
            _set_database(data, url)
            yield data, url
            return
        name = f"examgate_bench_run_{secrets.token_hex(4)}"
        template = meta["database"].rsplit("/", 1)[1]
        _pg(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        try:
            _set_database(data, _pg_url(name))
            yield data, _pg_url(name)
        finally:
            _pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _set_database(data: Path, url: str) -> None:
    config = data / "server.json"
    saved = json.loads(config.read_text())
    saved["database_url"] = url
    config.write_text(json.dumps(saved))


# -- firing ----------------------------------------------------------------------------------


def _signed_headers(method: str, route: str, body: bytes, device: str, key: Any) -> dict[str, str]:
    """The headers a device signs a request with, as the client makes them."""
    timestamp = str(time.time_ns() // 1_000_000)
    nonce = secrets.token_urlsafe(16)
    digest = hashlib.sha256(body).hexdigest()
    message = request_signing_bytes(method, API_PREFIX + route, timestamp, nonce, digest)
    return {
        "device": device,
        "timestamp": timestamp,
        "nonce": nonce,
        "signature": crypto.b64encode(key.sign(message)),
    }


async def _one(
    url: str, at: float, method: str, route: str, body: bytes, device: str, key: Any
) -> tuple[int, float]:
    """Wait for ``at``, then one signed request on a new connection: (status, seconds)."""
    delay = at - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    parts = urlsplit(url)
    target = API_PREFIX + route
    signed = _signed_headers(method, route, body, device, key)
    headers = {
        "Host": parts.netloc,
        HEADER_DEVICE: signed["device"],
        HEADER_TIMESTAMP: signed["timestamp"],
        HEADER_NONCE: signed["nonce"],
        HEADER_SIGNATURE: signed["signature"],
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    started = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname, parts.port), 30
        )
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 180)
        writer.close()
        status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    except (OSError, TimeoutError, ValueError, IndexError):
        status = 0  # no answer: refused, reset or timed out
    return status, time.monotonic() - started


async def _fire(url: str, requests_: list[tuple[str, str, bytes, str, Any]], window: float) -> Any:
    start = time.monotonic() + 0.5
    gap = window / max(1, len(requests_))
    tasks = [
        _one(url, start + i * gap, method, route, body, device, key)
        for i, (method, route, body, device, key) in enumerate(requests_)
    ]
    began = time.monotonic()
    outcome = await asyncio.gather(*tasks)
    return outcome, time.monotonic() - began - 0.5


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _figures(outcome: list[tuple[int, float]], elapsed: float) -> dict[str, Any]:
    # 200: scored before the answer; 202: received under load, receipted, scored moments later
    ok = [seconds for status, seconds in outcome if status in (200, 202)]
    every = [seconds for _, seconds in outcome]
    errors = Counter(str(status) for status, _ in outcome if status not in (200, 202))
    return {
        "ok": len(ok),
        "receipted_then_scored": sum(1 for status, _ in outcome if status == 202),
        "errors": sum(errors.values()),
        "errors_by_status": dict(errors),
        "p50_ms": round(_percentile(every, 0.50) * 1000, 1),
        "p95_ms": round(_percentile(every, 0.95) * 1000, 1),
        "p99_ms": round(_percentile(every, 0.99) * 1000, 1),
        "max_ms": round(max(every, default=0) * 1000, 1),
        "elapsed_s": round(elapsed, 2),
        "per_second": round(len(ok) / elapsed, 1) if elapsed else 0.0,
    }


def _drain(url: str, limit_s: float = 600) -> float:
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        try:
            if requests.get(url + "/ready", timeout=10).json().get("jobs_pending", 1) == 0:
                return time.monotonic() - started
        except requests.RequestException:
            pass
        time.sleep(0.25)
    return float("nan")


def _scored(database_url: str, n: int, limit_s: float = 600) -> float:
    """Seconds until ``n`` results are stored (uploads receipted under load are scored by the
    ``score`` job after their answer)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if _rows(database_url)["results"] >= n:
            return time.monotonic() - started
        time.sleep(0.25)
    return float("nan")


def _rows(database_url: str) -> dict[str, int]:
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:

            def one(sql: str) -> int:
                return int(connection.execute(text(sql)).scalar_one())

            return {
                "rows": one("SELECT count(*) FROM submissions"),
                "unique_ids": one("SELECT count(DISTINCT id) FROM submissions"),
                "results": one("SELECT count(*) FROM results"),
                "certificates": one("SELECT count(*) FROM results WHERE certificate IS NOT NULL"),
            }
    finally:
        engine.dispose()


def _uploads_by_process(log: Path) -> list[int]:
    """How many uploads each server process answered (from its JSON access log lines)."""
    counts: Counter[int] = Counter()
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and '"/api/v1/submissions"' in line:
            with contextlib.suppress(ValueError, KeyError):
                counts[int(json.loads(line)["pid"])] += 1
    return sorted(counts.values(), reverse=True)


def percentiles(sizes: tuple[int, ...] = (100, 1_000, 10_000, 100_000)) -> dict[str, Any]:
    """The cost of a result's percentile as results accumulate: read from the maintained
    distribution (what the server does) against counting every result (what it did)."""
    from sqlalchemy import Column, Float, Integer, MetaData, String, Table, func, select

    from server import db, results

    rng = random.Random(3)
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as work:
        engine = db.make_engine(f"sqlite:///{work}/p.db")
        db.migrate(engine)
        scan_meta = MetaData()
        scan = Table(
            "scan",
            scan_meta,
            Column("id", Integer, primary_key=True),
            Column("assessment_id", String(32), index=True),
            Column("theta", Float),
        )
        scan_meta.create_all(engine)
        stored = 0
        for size in sizes:
            thetas = [rng.gauss(0, 1) for _ in range(size - stored)]
            with engine.begin() as connection:
                for theta in thetas:
                    results._count_in_distribution(connection, "a", theta)
                if thetas:
                    connection.execute(
                        scan.insert(), [{"assessment_id": "a", "theta": t} for t in thetas]
                    )
            stored = size
            with engine.connect() as connection:
                started = time.perf_counter()
                for _ in range(200):
                    results._percentile(connection, "a", rng.gauss(0, 1), 30)
                distribution_ms = (time.perf_counter() - started) * 1000 / 200
                started = time.perf_counter()
                for _ in range(20):
                    theta = rng.gauss(0, 1)
                    connection.execute(
                        select(
                            func.count().filter(scan.c.theta < theta),
                            func.count().filter(scan.c.theta == theta),
                            func.count(),
                        ).where(scan.c.assessment_id == "a")
                    ).one()
                scan_ms = (time.perf_counter() - started) * 1000 / 20
            figures[str(size)] = {
                "distribution_ms": round(distribution_ms, 3),
                "scan_ms": round(scan_ms, 3),
            }
            print(
                f"percentile at {size:>7} results: distribution {distribution_ms:.3f} ms, "
                f"counting every result {scan_ms:.3f} ms",
                flush=True,
            )
        engine.dispose()
    return {"kind": "percentiles", "sizes": figures}


def burst(n: int, kind: str, workers: int, window: float, separate: bool = False) -> dict[str, Any]:
    """``separate``: the app processes leave jobs to one ``examgate-server worker`` process."""
    folder = snapshot(kind, n)
    lines = (folder / "submissions.jsonl").read_text().splitlines()[:n]
    prepared = [json.loads(line) for line in lines]
    load = [
        (
            "POST",
            "/submissions",
            entry["document"].encode(),
            entry["device_id"],
            Ed25519PrivateKey.from_private_bytes(crypto.b64decode(entry["key"])),
        )
        for entry in prepared
    ]
    with contextlib.ExitStack() as stack:
        data, database_url = stack.enter_context(restored(folder, kind))
        process, url = stack.enter_context(
            running_server(data, workers, data / "serve.log", jobs=not separate)
        )
        worker = stack.enter_context(job_worker(data, data / "worker.log")) if separate else None
        before = cpu_seconds(process)
        worker_before = cpu_seconds(worker) if worker else 0.0
        database_before, generator_before = database_cpu_seconds(), own_cpu_seconds()
        outcome, elapsed = asyncio.run(_fire(url, load, window))
        fired_cpu = cpu_seconds(process) - before
        database_cpu = database_cpu_seconds() - database_before
        generator_cpu = own_cpu_seconds() - generator_before
        scored_s = _scored(database_url, sum(1 for status, _ in outcome if status in (200, 202)))
        drain_s = _drain(url)
        total_cpu = cpu_seconds(process) - before
        worker_cpu = cpu_seconds(worker) - worker_before if worker else 0.0
        figures = _figures(outcome, elapsed)
        rows = _rows(database_url)
        shares = _uploads_by_process(data / "serve.log")
    return {
        "kind": "burst",
        "database": kind,
        "workers": workers,
        "separate_job_worker": separate,
        "n": n,
        "window_s": window,
        **figures,
        **rows,
        "job_worker_cpu_s": round(worker_cpu, 2),
        "uploads_by_process": shares,
        "scored_exactly_once": (
            rows["rows"] == rows["unique_ids"] == rows["results"] == figures["ok"] == n
        ),
        "results_scored_s": round(scored_s, 2),
        "certificates_drained_s": round(drain_s, 2),
        "server_cpu_s_during_burst": round(fired_cpu, 2),
        "server_cpu_s_with_certificates": round(total_cpu, 2),
        "server_cpu_ms_per_submission": round(1000 * fired_cpu / max(1, figures["ok"]), 2),
        # Where the machine's cores went while the burst was fired and answered.
        "database_cpu_s_during_burst": round(database_cpu, 2),
        "generator_cpu_s_during_burst": round(generator_cpu, 2),
        "cores_busy_during_burst": round(
            (fired_cpu + database_cpu + generator_cpu) / max(elapsed, 1e-9), 2
        ),
        "cores": os.cpu_count(),
    }


def profile(n: int, kind: str, defer: bool) -> dict[str, Any]:
    """The upload path in this process, without HTTP: the request's authentication and
    ``results.submit`` (receipted as under load with ``defer``) for ``n`` prepared
    submissions, under cProfile; prints where the time goes and, on PostgreSQL, how many
    round trips to the database each upload makes (every wait of psycopg for the server)."""
    import cProfile
    import pstats

    from server import auth, results
    from server.context import Context
    from server.settings import Settings

    folder = snapshot(kind, n)
    lines = (folder / "submissions.jsonl").read_text().splitlines()[:n]
    prepared = [json.loads(line) for line in lines]
    waits = Counter[str]()
    original = psycopg.Connection.wait

    def reads(gen: Any) -> Any:
        """``gen`` as psycopg runs it, counting each time it waits to read the server's answer
        (a round trip; work that needs no answer, such as a setting, waits for none)."""
        try:
            value = gen.send(None)
        except StopIteration as done:
            return done.value
        while True:
            if int(value) & int(psycopg.waiting.Wait.R):
                waits["round trips"] += 1
            sent = yield value
            try:
                value = gen.send(sent)
            except StopIteration as done:
                return done.value

    def counted(self: psycopg.Connection[Any], gen: Any, *args: Any, **kwargs: Any) -> Any:
        return original(self, reads(gen), *args, **kwargs)

    with restored(folder, kind) as (data, _url):
        ctx = Context.open(Settings.load(data))
        signed = []
        for entry in prepared:
            body = entry["document"].encode()
            key = Ed25519PrivateKey.from_private_bytes(crypto.b64decode(entry["key"]))
            signed.append((entry["device_id"], body, key))
        try:
            profiler = cProfile.Profile()
            psycopg.Connection.wait = counted  # type: ignore[method-assign]
            started = time.perf_counter()
            profiler.enable()
            for device, body, key in signed:
                headers = _signed_headers("POST", "/submissions", body, device, key)
                auth.authenticate(ctx, "POST", API_PREFIX + "/submissions", headers, body,
                                  ("device", "submit"))  # fmt: skip
                results.submit(ctx, device, body, defer=defer)
            profiler.disable()
            elapsed = time.perf_counter() - started
        finally:
            psycopg.Connection.wait = original  # type: ignore[method-assign]
            ctx.dispose()
    per_ms = 1000 * elapsed / max(1, n)
    trips = waits["round trips"] / max(1, n)
    how = "receipted, scored later" if defer else "scored inline"
    print(f"{n} uploads in process ({kind}, {how}): {per_ms:.2f} ms each (under the profiler)")
    if kind == "postgresql":
        print(f"database round trips: {trips:.1f} an upload")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    return {
        "kind": "profile",
        "database": kind,
        "n": n,
        "deferred": defer,
        "ms_per_submission": round(per_ms, 2),
        "round_trips_per_submission": round(trips, 1) if kind == "postgresql" else None,
    }


# -- downloads -------------------------------------------------------------------------------


def downloads(n: int, kind: str, workers: int, window: float, prepared: bool) -> dict[str, Any]:
    """N devices enrolled (with the client's API), then every package asked for at once;
    ``prepared``: the prepare jobs ran first (as in production), else derived on demand."""
    from client.api import ApiClient
    from client.engine import server_kex_public

    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        data = Path(work) / "server"
        database = f"sqlite:///{data / 'examgate.db'}"
        if kind == "postgresql":
            name = f"examgate_bench_dl_{secrets.token_hex(4)}"
            _pg(f'CREATE DATABASE "{name}"')
            stack.callback(_pg, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            database = _pg_url(name)
        _init_server(data, database)
        invitations = _invite(data, n)
        process, url = stack.enter_context(
            running_server(data, workers, data / "serve.log", jobs=prepared)
        )
        started = time.monotonic()
        if prepared:
            _drain(url)
        prepare_s = time.monotonic() - started
        server = ApiClient(url).server_key()
        signing_public = crypto.b64decode(server["public_key"])
        kex_public = server_kex_public(server, signing_public)
        load = []
        for i, invitation in enumerate(invitations):
            signing, kex = crypto.generate_signing_key(), crypto.generate_kex_key()
            enrolled = ApiClient(url).enrol(
                invitation["invitation"], signing, kex, f"device {i}", kex_public
            )
            chain = crypto.b64encode(crypto.public_bytes(crypto.generate_signing_key()))
            body = json.dumps({"chain_public": chain}, separators=(",", ":")).encode()
            route = f"/sittings/{enrolled['sitting']['id']}/package"
            load.append(("POST", route, body, enrolled["device_id"], signing))
        before = cpu_seconds(process)
        outcome, elapsed = asyncio.run(_fire(url, load, window))
        cpu = cpu_seconds(process) - before
    return {
        "kind": "downloads",
        "database": kind,
        "workers": workers,
        "n": n,
        "window_s": window,
        "prepared_ahead": prepared,
        "prepare_jobs_s": round(prepare_s, 1) if prepared else None,
        **_figures(outcome, elapsed),
        "server_cpu_ms_per_download": round(1000 * cpu / max(1, n), 2),
    }


# -- the command ---------------------------------------------------------------------------


def _print(run: dict[str, Any]) -> None:
    if run["kind"] in ("percentiles", "profile"):
        return  # printed as measured
    print(
        f"{run['kind']:9} {run['database']:10} workers {run['workers']}"
        f"{' +job worker' if run.get('separate_job_worker') else ''} n {run['n']:5}: "
        f"ok {run['ok']} errors {run['errors']} {run['errors_by_status'] or ''} "
        f"p50 {run['p50_ms']} ms p95 {run['p95_ms']} ms p99 {run['p99_ms']} ms "
        f"{run['per_second']}/s",
        flush=True,
    )
    if run["kind"] == "burst":
        print(
            f"          {run['receipted_then_scored']} receipted at once and scored after "
            f"(all scored {run['results_scored_s']} s after the burst); rows {run['rows']} "
            f"unique ids {run['unique_ids']} results {run['results']} certificates "
            f"{run['certificates']} (drained {run['certificates_drained_s']} s after the "
            f"burst); server CPU "
            f"{run['server_cpu_s_during_burst']} s in the burst, "
            f"{run['server_cpu_ms_per_submission']} ms a submission; database CPU "
            f"{run['database_cpu_s_during_burst']} s, load generator "
            f"{run['generator_cpu_s_during_burst']} s: {run['cores_busy_during_burst']} of "
            f"{run['cores']} cores busy",
            flush=True,
        )
    else:
        print(
            f"          prepared ahead: {run['prepared_ahead']}; server CPU "
            f"{run['server_cpu_ms_per_download']} ms a download",
            flush=True,
        )


def _kind(database: str) -> str:
    return "postgresql" if database.startswith("postgresql") else "sqlite"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__)
    parser.add_argument("--n", type=int, default=2000, help="submissions in the burst")
    parser.add_argument("--downloads", type=int, help="measure N package downloads instead")
    parser.add_argument("--database", default="sqlite", help="sqlite or postgresql")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--window", type=float, default=10.0, help="seconds to fire within")
    parser.add_argument("--matrix", choices=["small", "full"], help="the standard set of runs")
    parser.add_argument(
        "--percentiles", action="store_true", help="the percentile's cost, 100 to 100,000 results"
    )
    parser.add_argument(
        "--profile", action="store_true", help="the upload path in process, under cProfile"
    )
    parser.add_argument(
        "--deferred",
        action="store_true",
        help="--profile: uploads receipted and scored later, as under load",
    )
    parser.add_argument(
        "--separate-worker",
        action="store_true",
        help="PostgreSQL: serve --no-jobs and one examgate-server worker process",
    )
    args = parser.parse_args(argv)
    runs: list[dict[str, Any]] = []
    if args.matrix:
        n, d = (300, 200) if args.matrix == "small" else (2000, 500)
        plan: list[tuple[str, ...]] = [
            ("burst", "sqlite", "1"),
            ("burst", "postgresql", "1"),
            ("burst", "postgresql", "2"),
            ("downloads", "sqlite", "1"),
        ]
        runs.append(percentiles((100, 1_000, 10_000)))
        for what, kind, workers in plan:
            if what == "burst":
                runs.append(burst(n, kind, int(workers), args.window))
            else:
                runs.append(downloads(d, kind, int(workers), args.window, prepared=True))
            _print(runs[-1])
    elif args.percentiles:
        runs.append(percentiles())
    elif args.profile:
        runs.append(profile(args.n, _kind(args.database), args.deferred))
        return 0
    elif args.downloads:
        for prepared in (False, True):
            runs.append(
                downloads(args.downloads, _kind(args.database), args.workers, args.window, prepared)
            )
            _print(runs[-1])
    else:
        runs.append(
            burst(args.n, _kind(args.database), args.workers, args.window, args.separate_worker)
        )
        _print(runs[-1])
    OUT.mkdir(exist_ok=True)
    machine = f"{platform.machine()} {os.cpu_count()} cores python {platform.python_version()}"
    (OUT / "burst.json").write_text(json.dumps({"machine": machine, "runs": runs}, indent=2) + "\n")
    print(f"written: {OUT / 'burst.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
