"""trust: sitting windows and extra time, the event chain's commitment, request nonces, rate limits

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("opens_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("closes_ms", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("extra_time_s", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("chain_public", sa.String(length=64), nullable=True))
    op.create_table(
        "request_nonces",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "nonce"),
    )
    op.create_index("ix_request_nonces_seen_ms", "request_nonces", ["seen_ms"])
    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(length=200), nullable=False),
        sa.Column("window_ms", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_ms"),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_index("ix_request_nonces_seen_ms", table_name="request_nonces")
    op.drop_table("request_nonces")
    with op.batch_alter_table("sittings") as batch:
        batch.drop_column("chain_public")
        batch.drop_column("extra_time_s")
        batch.drop_column("closes_ms")
        batch.drop_column("opens_ms")
