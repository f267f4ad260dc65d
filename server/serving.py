"""Running the app: uvicorn with its fast parts (httptools, uvloop), one process or several.

With several processes each binds its own listening socket with ``SO_REUSEPORT``, so the
kernel spreads new connections across them. (Processes sharing one socket, as uvicorn's own
``--workers`` does, take turns badly under a burst: the first to wake accepts the whole
backlog while the others sit idle.) A process that dies is started again.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import Any

from server import db, logs

log = logging.getLogger("examgate.server")

BACKLOG = 4096  # connections the kernel holds for a process before accept: a room's burst


def _config(app: Any = "server.app:app_from_environment", **extra: Any) -> Any:
    import uvicorn

    options: dict[str, Any] = {
        "factory": isinstance(app, str),
        "http": "httptools",
        "loop": "uvloop",
        "lifespan": "on",
        "backlog": BACKLOG,
        # uvicorn's access log prints paths, and paths hold verification codes: the app logs
        # each request by its route template instead (examgate.access).
        "access_log": False,
        "log_config": None,
        "timeout_keep_alive": 5,
        "timeout_graceful_shutdown": 10,
    }
    options.update(extra)
    return uvicorn.Config(app, **options)


def listening_socket(host: str, port: int, reuse_port: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


def _limit_threads() -> None:
    """Requests run blocking database work in a thread pool; size it to the pools (db.py)."""
    import anyio.to_thread

    anyio.to_thread.current_default_thread_limiter().total_tokens = db.REQUEST_THREADS


def _child(host: str, port: int, json_logs: bool) -> None:
    import uvicorn

    logs.configure(json_lines=json_logs)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; SIGTERM stops us
    sock = listening_socket(host, port, reuse_port=True)
    server = uvicorn.Server(_config())
    log.info("server process started", extra={"port": port})

    async def run() -> None:
        _limit_threads()
        await server.serve(sockets=[sock])

    _run_uvloop(run)


def _run_uvloop(main: Any) -> None:
    import uvloop

    uvloop.run(main())


def serve(host: str, port: int, workers: int, json_logs: bool = True) -> int:
    """Serve until interrupted. The settings come from the environment (see ``cli._serve``)."""
    if workers <= 1:
        import uvicorn

        server = uvicorn.Server(_config())

        async def run() -> None:
            _limit_threads()
            sock = listening_socket(host, port, reuse_port=False)
            await server.serve(sockets=[sock])

        _run_uvloop(run)
        return 0
    _metrics_directory()
    spawn = multiprocessing.get_context("spawn")
    children: list[Any] = []

    def start() -> Any:
        child = spawn.Process(target=_child, args=(host, port, json_logs), daemon=False)
        child.start()
        return child

    stopping = False

    def stop(_signum: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    children = [start() for _ in range(workers)]
    log.info("serving", extra={"host": host, "port": port, "processes": workers})
    while not stopping:
        time.sleep(0.5)
        for index, child in enumerate(children):
            if not child.is_alive() and not stopping:
                log.warning("a server process ended; starting another", extra={"pid": child.pid})
                _mark_dead(child.pid)
                children[index] = start()
    for child in children:
        if child.is_alive():
            child.terminate()
    for child in children:
        child.join(15)
        if child.is_alive():
            child.kill()
    return 0


def _metrics_directory() -> None:
    """Several processes: prometheus_client keeps each one's figures in files, summed when
    scraped. Emptied at start (figures of processes long gone mean nothing)."""
    folder = Path(os.environ["EXAMGATE_DATA"]) / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(mode=0o700, parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _mark_dead(pid: int | None) -> None:
    if pid is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
