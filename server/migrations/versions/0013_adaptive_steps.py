"""adaptive steps: an adaptive sitting's items as the server chose them, and their answers

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "adaptive_steps",
        sa.Column("sitting_id", sa.String(32), sa.ForeignKey("sittings.id"), primary_key=True),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("item_id", sa.String(32), sa.ForeignKey("items.id"), nullable=True),
        sa.Column("entry", sa.Text(), nullable=True),
        sa.Column("served_ms", sa.BigInteger(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_ms", sa.BigInteger(), nullable=True),
        sa.Column("end_reason", sa.String(16), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("adaptive_steps")
