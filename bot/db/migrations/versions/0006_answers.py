"""Answers in the database: versions, the publish counter, admin roles.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "answers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("seed", sa.JSON(), nullable=False),
        sa.Column("published_version_id", sa.Integer()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "answer_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("answer_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.Text()),
        sa.Column("checked_on", sa.Date()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(64)),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("answer_id", "number", name="uq_answer_version_number"),
    )
    op.create_index("ix_answer_versions_answer_id", "answer_versions", ["answer_id"])
    op.create_index("ix_answer_versions_status", "answer_versions", ["status"])
    op.create_table(
        "answer_revision",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Existing admin accounts could do everything: they become approvers.
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default="approver"))


def downgrade() -> None:
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("role")
    op.drop_table("answer_revision")
    op.drop_index("ix_answer_versions_status", "answer_versions")
    op.drop_index("ix_answer_versions_answer_id", "answer_versions")
    op.drop_table("answer_versions")
    op.drop_table("answers")
