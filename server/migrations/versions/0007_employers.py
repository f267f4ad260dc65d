"""employers: organisations with members, sign-in sessions, API tokens, the audit log, e-mail,
assessment lifecycle, self-registration with verified e-mail, result shares (consent) and reviews

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("employers") as batch:
        batch.add_column(sa.Column("slug", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("retention_days", sa.Integer(), nullable=True))
        batch.create_unique_constraint("uq_employers_slug", ["slug"])
    op.execute("UPDATE employers SET slug = id WHERE slug IS NULL")
    with op.batch_alter_table("assessments") as batch:
        # Assessments made before this were usable at once: they count as published.
        batch.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="published")
        )
        batch.add_column(
            sa.Column("supervised", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("self_registration", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("sittings") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="employer")
        )
        batch.add_column(sa.Column("revoked_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("invited_by", sa.String(length=80), nullable=True))
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("review", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("review_note", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reviewed_by", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("reviewed_ms", sa.BigInteger(), nullable=True))
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("email", sa.String(length=254), nullable=False, unique=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("totp_secret", sa.String(length=64), nullable=True),
        sa.Column("totp_pending", sa.String(length=64), nullable=True),
        sa.Column("totp_last_step", sa.BigInteger(), nullable=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("disabled_ms", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "memberships",
        sa.Column("organisation_id", sa.String(length=32), sa.ForeignKey("employers.id")),
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id")),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("organisation_id", "user_id"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])
    op.create_table(
        "password_codes",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("user_id", sa.String(length=32), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False, unique=True),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("used_ms", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "organisation_id", sa.String(length=32), sa.ForeignKey("employers.id"), nullable=False
        ),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("last_used_ms", sa.BigInteger(), nullable=True),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object", sa.String(length=120), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_audit_log_organisation", "audit_log", ["organisation_id", "id"])
    op.create_table(
        "emails",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("organisation_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("sent_ms", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_table(
        "email_verifications",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column(
            "assessment_id", sa.String(length=32), sa.ForeignKey("assessments.id"), nullable=False
        ),
        sa.Column("email", sa.String(length=254), nullable=False, index=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("code_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("used_ms", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "result_shares",
        sa.Column("result_id", sa.String(length=32), sa.ForeignKey("results.id")),
        sa.Column("organisation_id", sa.String(length=32), sa.ForeignKey("employers.id")),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("granted_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("result_id", "organisation_id"),
    )


def downgrade() -> None:
    for table in (
        "result_shares",
        "email_verifications",
        "emails",
        "audit_log",
        "api_tokens",
        "user_sessions",
        "password_codes",
        "memberships",
        "users",
    ):
        op.drop_table(table)
    with op.batch_alter_table("results") as batch:
        for column in ("reviewed_ms", "reviewed_by", "review_note", "review"):
            batch.drop_column(column)
    with op.batch_alter_table("sittings") as batch:
        for column in ("invited_by", "revoked_ms", "kind"):
            batch.drop_column(column)
    with op.batch_alter_table("assessments") as batch:
        for column in ("self_registration", "supervised", "status"):
            batch.drop_column(column)
    with op.batch_alter_table("employers") as batch:
        batch.drop_constraint("uq_employers_slug", type_="unique")
        batch.drop_column("retention_days")
        batch.drop_column("slug")
