"""wider items: multiple response, item-level feedback, images

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(
            sa.Column("multiple_response", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        # {"general": ..., "correct": ..., "incorrect": ...}, only the ones an item has.
        batch.add_column(sa.Column("feedback", sa.Text(), nullable=False, server_default="{}"))
        # [{"name", "type", "alt", "data" (base64)}], in the order the stem numbers them.
        batch.add_column(sa.Column("images", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("images")
        batch.drop_column("feedback")
        batch.drop_column("multiple_response")
