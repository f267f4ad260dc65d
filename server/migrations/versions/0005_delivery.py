"""delivery: idempotency claims, the sync deadline, checkpoints of online logs

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "idempotency",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=32), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("finished_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(
            sa.Column("sync_deadline_days", sa.Integer(), nullable=False, server_default="7")
        )
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("checkpoint_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("checkpoint_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("rolled_back", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("sealed_seen_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sittings") as batch:
        batch.drop_column("sealed_seen_ms")
        batch.drop_column("rolled_back")
        batch.drop_column("checkpoint_hash")
        batch.drop_column("checkpoint_seq")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("sync_deadline_days")
    op.drop_table("idempotency")
