"""integrity policy per assessment, proctor secret per sitting

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("policy", sa.Text(), nullable=False, server_default="{}"))
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("proctor_secret", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sittings") as batch:
        batch.drop_column("proctor_secret")
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("policy")
