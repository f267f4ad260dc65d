"""results for employers: webhooks and their delivery log, the integrity outcome of a result
as a column (filtered on), an ATS's reference to the invitation it asked for, erasure marks

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(length=32), sa.ForeignKey("employers.id"), nullable=False
        ),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("secret_sealed", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("disabled_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_webhooks_organisation_id", "webhooks", ["organisation_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("webhook_id", sa.String(length=32), sa.ForeignKey("webhooks.id"), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("history", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("delivered_ms", sa.BigInteger(), nullable=True),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "created_ms"]
    )
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("integrity", sa.String(length=16), nullable=True))
    op.create_index("ix_results_created_ms", "results", ["created_ms"])
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(sa.Column("erased_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("ats_callback", sa.String(length=2000), nullable=True))
    results = sa.table(
        "results", sa.column("id", sa.String), sa.column("report", sa.Text),
        sa.column("integrity", sa.String),
    )  # fmt: skip
    connection = op.get_bind()
    for row in connection.execute(sa.select(results.c.id, results.c.report)).all():
        outcome = (json.loads(row.report).get("integrity") or {}).get("outcome")
        connection.execute(results.update().where(results.c.id == row.id).values(integrity=outcome))


def downgrade() -> None:
    with op.batch_alter_table("sittings") as batch:
        batch.drop_column("ats_callback")
        batch.drop_column("erased_ms")
    op.drop_index("ix_results_created_ms", table_name="results")
    with op.batch_alter_table("results") as batch:
        batch.drop_column("integrity")
    op.drop_index("ix_webhook_deliveries_webhook", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhooks_organisation_id", table_name="webhooks")
    op.drop_table("webhooks")
