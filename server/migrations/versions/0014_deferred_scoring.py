"""deferred scoring: a submission received under load keeps the id its result will have, and,
if scoring refused it afterwards, why

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions") as table:
        table.add_column(sa.Column("result_id", sa.String(32), nullable=True))
        table.add_column(sa.Column("refusal", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("submissions") as table:
        table.drop_column("refusal")
        table.drop_column("result_id")
