"""credentials: each result's signed PDF hash, Open Badges credential and status-list entry

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("certificate_sha256", sa.String(64), nullable=True))
        batch.add_column(sa.Column("credential", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_list", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("status_index", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_results_status", ["status_list", "status_index"])


def downgrade() -> None:
    with op.batch_alter_table("results") as batch:
        batch.drop_constraint("uq_results_status", type_="unique")
        batch.drop_column("status_index")
        batch.drop_column("status_list")
        batch.drop_column("credential")
        batch.drop_column("certificate_sha256")
