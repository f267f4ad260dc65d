"""Test helpers: sit a whole exam through the engine, count rows, sign raw requests."""

from __future__ import annotations

import hashlib
import random
import secrets
import time
from typing import Any

from sqlalchemy import func, select

from client.engine import Engine
from client.session import ExamSession
from client.simulate import answer_all
from server import db
from server.context import Context
from shared import crypto
from shared.protocol import (
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    request_signing_bytes,
)


def sit(
    engine: Engine,
    url: str,
    invitation: dict[str, Any],
    strategy: str = "first",
    share: bool | None = None,
) -> ExamSession:
    """Enrol, download, unlock and answer every item; return the ended session. ``share``:
    the answer to the consent question (None: not answered)."""
    sitting = engine.enrol(url, invitation["invitation"])
    engine.download(sitting["id"])
    code = invitation.get("unlock_code") or engine.release_code(sitting["id"])
    session = engine.unlock(sitting["id"], code, share=share)
    answer_all(session, strategy, random.Random(1), engine.next_question)
    return session


def sealed(make_engine: Any, live: Any, offline: bool = False) -> tuple[Engine, str]:
    """A new device that sat an invitation of ``live`` (a ThreadServer) and sealed it: the
    engine and its submission id, not yet uploaded."""
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite(offline=offline)))
    return engine, submission_id


def count(ctx: Context, table: str) -> int:
    with ctx.engine.connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(getattr(db, table))).scalar_one()
        )


def queued(ctx: Context, task: str, key: str | None = None, every: bool = False) -> int:
    """Jobs of ``task`` (and ``key``) not yet done (``every``: ever deferred), in whichever
    queue the database has."""
    with ctx.reader.connect() as connection:
        if connection.dialect.name == "postgresql":
            sql = (  # fixed text; the values are parameters
                "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %(task)s"  # noqa: S608
                + ("" if every else " AND status IN ('todo', 'doing')")
                + (" AND args->>'key' = %(key)s" if key is not None else "")
            )
            return int(connection.exec_driver_sql(sql, {"task": task, "key": key}).scalar_one())
        query = select(func.count()).where(db.jobs.c.task == task)
        if not every:
            query = query.where(db.jobs.c.state == "todo")
        if key is not None:
            query = query.where(db.jobs.c.key == key)
        return int(connection.execute(query).scalar_one())


def run_queued(ctx: Context) -> int:
    """Run every due job once in this thread, from either queue; return how many ran."""
    from server import jobs

    ran = 0
    if ctx.engine.dialect.name == "postgresql":
        with ctx.reader.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT id, task_name, args->>'key' FROM procrastinate_jobs "
                "WHERE status = 'todo' ORDER BY id"
            ).all()
        for job_id, task, key in rows:
            if jobs.run_job(ctx, task, key, 1) is None:
                with ctx.engine.begin() as connection:
                    connection.exec_driver_sql(
                        "UPDATE procrastinate_jobs SET status = 'succeeded' WHERE id = %(id)s",
                        {"id": job_id},
                    )
            ran += 1
        return ran
    worker = jobs.TableWorker(ctx)
    while worker.work_one():
        ran += 1
    return ran


def settle_jobs(ctx: Context, timeout_s: float = 30.0) -> None:
    """Run every due job here, and wait for any a live server's own worker holds (it starts a
    job only once requests have paused), until none is running."""
    deadline = time.monotonic() + timeout_s
    while True:
        ran = run_queued(ctx)
        with ctx.reader.connect() as connection:
            if connection.dialect.name == "postgresql":
                sql = "SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'"
                running = int(connection.exec_driver_sql(sql).scalar_one())
            else:
                running = int(
                    connection.execute(
                        select(func.count()).where(db.jobs.c.state == "doing")
                    ).scalar_one()
                )
        if not ran and not running:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{running} job(s) still running after {timeout_s} s")
        time.sleep(0.05)


def stored_document(engine: Engine, submission_id: str) -> str:
    row = engine.db.execute(
        "SELECT document FROM outbox WHERE submission_id = ?", (submission_id,)
    ).fetchone()
    return str(row[0])


def signed_headers(
    device_id: str,
    key: Any,
    method: str,
    target: str,
    body: bytes,
    when_ms: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a device sends to sign one request (as ``client.api`` builds them)."""
    timestamp = str(when_ms if when_ms is not None else int(time.time() * 1000))
    nonce = nonce or secrets.token_urlsafe(16)
    digest = hashlib.sha256(body).hexdigest()
    message = request_signing_bytes(method, target, timestamp, nonce, digest)
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: crypto.b64encode(key.sign(message)),
    }


def one_page_pdf(text: str = "Certificate of skills") -> bytes:
    """A small unsigned PDF of one page, for signing tests."""
    import io

    from reportlab.pdfgen.canvas import Canvas

    out = io.BytesIO()
    canvas = Canvas(out)
    canvas.drawString(100, 700, text)
    canvas.showPage()
    canvas.save()
    return out.getvalue()
