"""Prometheus metrics, served at ``/metrics``.

Per process: request latency by route template (never a path: paths hold codes), submissions
scored, job runs and failures. Read from the database when scraped, so every process and host
agrees: jobs pending and failed per task. With several worker processes ``serve`` sets
``PROMETHEUS_MULTIPROC_DIR`` and every process's figures are summed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

if TYPE_CHECKING:
    from server.context import Context

REQUEST_SECONDS = Histogram(
    "examgate_request_seconds",
    "Time to answer a request, by route template, method and status.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
)
SUBMISSIONS_SCORED = Counter(
    "examgate_submissions_scored", "Submissions verified, scored and stored (each once)."
)
SUBMISSIONS_DEFERRED = Counter(
    "examgate_submissions_deferred",
    "Submissions received under load: receipted at once, scored by the score job after.",
)
JOB_SECONDS = Histogram(
    "examgate_job_seconds",
    "Time a job took, by task (successful attempts).",
    ["task"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
JOB_FAILURES = Counter("examgate_job_failures", "Failed job attempts, by task.", ["task"])

CONTENT_TYPE = CONTENT_TYPE_LATEST


class QueueCollector(Collector):
    """Jobs pending and failed per task, read from the database at each scrape."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        from server import jobs

        found = jobs.status(self.ctx)
        pending = GaugeMetricFamily(
            "examgate_jobs_pending", "Jobs queued or running, by task.", labels=["task"]
        )
        failed = GaugeMetricFamily(
            "examgate_jobs_failed", "Jobs that failed for good, by task.", labels=["task"]
        )
        for name in sorted(jobs.load_tasks()):
            pending.add_metric([name], found["pending"].get(name, 0))
            failed.add_metric([name], found["failed"].get(name, 0))
        yield pending
        yield failed


def exposition(ctx: Context) -> bytes:
    """The text format: this process's (or every process's) metrics and the queue's."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    queue = CollectorRegistry()
    queue.register(QueueCollector(ctx))
    return body + generate_latest(queue)
