"""Time what an employer reads as results accumulate: a page of the results list (unfiltered and
filtered on a level), one result with its integrity timeline, and the CSV export, against an
organisation holding N results (half shared with it), on SQLite.

    python -m bench.employer [--sizes 1000,10000,100000]

Rows are written straight into the tables (one real-shaped report and event log, copied), so
the figures are the queries' and the code's, not the scoring's.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server import accounts, db, employer_results
from server.context import Context
from server.provision import initialise
from server.settings import Settings
from shared import canonical
from shared.models import LEVELS

OUT = Path(__file__).with_name("out")
CATEGORIES = ("Deep learning foundations", "Techniques", "Convolutional networks", "Sequences")


def _report(level: str) -> str:
    detail = {"theta": 0.1, "se": 0.4, "level": level, "confidence": 0.8}
    return canonical.to_text(
        {
            "overall": level,
            "overall_detail": detail,
            "categories": dict.fromkeys(CATEGORIES, level),
            "category_details": [
                {"name": c, "correct": 3, "total": 5, **detail} for c in CATEGORIES
            ],
            "skills": [{"skill": f"skill {i}", "feedback": "..."} for i in range(12)],
            "study_plan": [],
            "integrity": {"outcome": "clean", "flags": []},
        }
    )


def _document() -> str:
    kinds = ["started", *["answer", "advance"] * 20, "focus_lost", "focus_returned", "ended"]
    events = [
        {"seq": i, "type": kind, "elapsed_ms": i * 10_000, "at_ms": 1_800_000_000_000 + i,
         "data": {}}
        for i, kind in enumerate(kinds)
    ]  # fmt: skip
    return canonical.to_text({"body": {"events": events, "responses": []}, "signature": ""})


def _fill(ctx: Context, organisation_id: str, count: int) -> None:
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        connection.execute(
            db.assessments.insert().values(
                id="benchassessment", employer_id=organisation_id, slug="bench", title="Bench",
                duration_s=480, blueprint="{}", created_ms=now,
            )
        )  # fmt: skip
        connection.execute(
            db.devices.insert().values(
                id="benchdevice", sign_public="x" * 43, kex_public="x" * 43, name="bench",
                created_ms=now,
            )
        )  # fmt: skip
    document = _document()
    reports = {level: _report(level) for level in LEVELS}
    for start in range(0, count, 5000):
        batch = range(start, min(count, start + 5000))
        with ctx.engine.begin() as connection:
            connection.execute(
                db.sittings.insert(),
                [
                    {"id": f"s{i}", "invitation_hash": f"h{i}", "assessment_id": "benchassessment",
                     "candidate_name": f"Candidate {i}", "candidate_email": f"c{i}@example.org",
                     "offline": False, "unlock_code": "", "device_id": "benchdevice",
                     "state": "scored", "created_ms": now, "expires_ms": now, "kind": "employer"}
                    for i in batch
                ],
            )  # fmt: skip
            connection.execute(
                db.submissions.insert(),
                [
                    {"id": f"u{i}", "sitting_id": f"s{i}", "device_id": "benchdevice",
                     "document": document, "received_ms": now + i}
                    for i in batch
                ],
            )  # fmt: skip
            connection.execute(
                db.results.insert(),
                [
                    {"id": f"r{i}", "submission_id": f"u{i}", "sitting_id": f"s{i}",
                     "assessment_id": "benchassessment", "overall": LEVELS[i % 3],
                     "overall_theta": 0.1, "report": reports[LEVELS[i % 3]],
                     "verification_code": f"V{i}", "created_ms": now + i, "integrity": "clean"}
                    for i in batch
                ],
            )  # fmt: skip
            connection.execute(
                db.result_shares.insert(),
                [
                    {"result_id": f"r{i}", "organisation_id": organisation_id,
                     "source": "sitting", "granted_ms": now}
                    for i in batch
                    if i % 2 == 0
                ],
            )  # fmt: skip


def _timed(work: Callable[[], object], repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"mean_ms": statistics.fmean(times), "p50_ms": times[len(times) // 2]}


def run(size: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="examgate-bench-employer-"))
    settings = Settings(data_dir=folder, database_url=f"sqlite:///{folder / 'examgate.db'}")
    initialise(settings)
    ctx = Context.open(settings)
    try:
        org = accounts.create_organisation(ctx, "Bench Org")
        started = time.perf_counter()
        _fill(ctx, org["id"], size)
        filled_s = time.perf_counter() - started
        operator = accounts.operator()

        def page(**query: str) -> dict[str, Any]:
            return employer_results.listing(ctx, operator, org["id"], query)

        figures = {
            "results": size,
            "fill_s": round(filled_s, 1),
            "list_page": _timed(page, 20),
            "list_page_level": _timed(lambda: page(level="developing"), 20),
            "list_page_deep": _timed(lambda: page(offset=str(size // 2)), 5),
            "detail": _timed(
                lambda: employer_results.detail(ctx, operator, org["id"], f"r{size // 2}"), 20
            ),
            "csv_all": _timed(lambda: employer_results.export_csv(ctx, operator, org["id"], {}), 2),
        }
    finally:
        ctx.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    args = parser.parse_args()
    rows = [run(int(size)) for size in args.sizes.split(",")]
    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}")  # fmt: skip
    print(f"{'results':>8} {'page':>9} {'level':>9} {'deep':>9} {'detail':>9} {'csv all':>10}")
    for row in rows:
        print(
            f"{row['results']:>8} {row['list_page']['p50_ms']:>7.1f}ms "
            f"{row['list_page_level']['p50_ms']:>7.1f}ms {row['list_page_deep']['p50_ms']:>7.1f}ms "
            f"{row['detail']['p50_ms']:>7.1f}ms {row['csv_all']['p50_ms']:>8.0f}ms"
        )
    first, last = rows[0], rows[-1]
    ratio = last["list_page"]["p50_ms"] / first["list_page"]["p50_ms"]
    print(f"a page at {last['results']} results costs {ratio:.1f}x a page at {first['results']}")
    OUT.mkdir(exist_ok=True)
    (OUT / "employer.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
