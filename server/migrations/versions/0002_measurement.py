"""measurement: item enemies, exposure counts, candidate email, overall ability

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("enemies", sa.Text(), nullable=False, server_default="[]"))
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(
            sa.Column("forms_issued", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("candidate_email", sa.String(length=200), nullable=True))
        batch.create_index("ix_sittings_candidate_email", ["candidate_email"])
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("overall_theta", sa.Float(), nullable=True))
    op.create_table(
        "item_exposure",
        sa.Column("assessment_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("forms", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["assessment_id"], ["assessments.id"]),
        sa.ForeignKeyConstraint(["item_id"], ["items.id"]),
        sa.PrimaryKeyConstraint("assessment_id", "item_id"),
    )


def downgrade() -> None:
    op.drop_table("item_exposure")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("overall_theta")
    with op.batch_alter_table("sittings") as batch:
        batch.drop_index("ix_sittings_candidate_email")
        batch.drop_column("candidate_email")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("forms_issued")
    with op.batch_alter_table("items") as batch:
        batch.drop_column("enemies")
