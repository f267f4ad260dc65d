"""scale: certificates rendered by a job, a maintained score distribution, work prepared ahead
of download, the bank's version, and the embedded job queue

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Kept in step with server.measurement.distribution_bucket (a migration does not import the app).
_BUCKETS_PER_THETA = 100
_MAX_BUCKET = 600


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.alter_column("certificate", existing_type=sa.LargeBinary(), nullable=True)
        batch.add_column(sa.Column("assessment_id", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("certified_ms", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE results SET assessment_id = (SELECT assessment_id FROM sittings "
        "WHERE sittings.id = results.sitting_id), certified_ms = created_ms"
    )
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("prepared_secrets", sa.Text(), nullable=True))
    op.create_table(
        "result_distribution",
        sa.Column("assessment_id", sa.String(length=32), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("assessment_id", "bucket"),
    )
    bucket = (
        f"CAST(ROUND(MAX({-_MAX_BUCKET}, MIN({_MAX_BUCKET}, overall_theta * {_BUCKETS_PER_THETA})))"
        " AS INTEGER)"
    )
    if op.get_bind().dialect.name == "postgresql":
        bucket = (
            f"CAST(ROUND(CAST(GREATEST({-_MAX_BUCKET}, LEAST({_MAX_BUCKET}, "
            f"overall_theta * {_BUCKETS_PER_THETA})) AS NUMERIC)) AS INTEGER)"
        )
    # Built from this file's constants only.
    op.execute(
        "INSERT INTO result_distribution (assessment_id, bucket, count) "  # noqa: S608
        f"SELECT assessment_id, {bucket}, COUNT(*) FROM results "
        f"WHERE overall_theta IS NOT NULL AND assessment_id IS NOT NULL "
        f"GROUP BY assessment_id, {bucket}"
    )
    op.create_table(
        "bank_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO bank_version (id, version) VALUES (1, 1)")
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("task", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("run_after_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("task", "key", name="uq_jobs_task_key"),
    )
    op.create_index("ix_jobs_state_run_after", "jobs", ["state", "run_after_ms"])


def downgrade() -> None:
    op.drop_index("ix_jobs_state_run_after", "jobs")
    op.drop_table("jobs")
    op.drop_table("bank_version")
    op.drop_table("result_distribution")
    with op.batch_alter_table("sittings") as batch:
        batch.drop_column("prepared_secrets")
    op.get_bind().execute(
        sa.text("UPDATE results SET certificate = :empty WHERE certificate IS NULL"), {"empty": b""}
    )
    with op.batch_alter_table("results") as batch:
        batch.drop_column("certified_ms")
        batch.drop_column("assessment_id")
        batch.alter_column("certificate", existing_type=sa.LargeBinary(), nullable=False)
