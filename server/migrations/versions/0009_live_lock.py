"""live lock: when a sitting's client last said it was locked (for the proctor's room view)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("locked_ms", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sittings") as batch:
        batch.drop_column("locked_ms")
