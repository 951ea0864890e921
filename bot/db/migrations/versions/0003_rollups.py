"""Hourly and per-conversation roll-ups of the question log (fast dashboard), review index.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "question_log_hourly",
        sa.Column("hour", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("intent", sa.String(100), primary_key=True),
        sa.Column("fallback", sa.Boolean(), primary_key=True),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("handoffs", sa.Integer(), nullable=False),
    )
    op.create_table(
        "question_log_conversations",
        sa.Column("conversation_id", sa.String(64), primary_key=True),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("resident", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("fell_back", sa.Boolean(), nullable=False),
        sa.Column("handed_off", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_question_log_conversations_started_at", "question_log_conversations", ["started_at"])
    op.create_index("ix_question_log_conversations_channel_started_at", "question_log_conversations", ["channel", "started_at"])
    op.create_index("ix_question_log_review_status", "question_log", ["review_status"])
    from bot.questionlog.rollups import rebuild

    rebuild(op.get_bind())  # existing log rows


def downgrade() -> None:
    op.drop_index("ix_question_log_review_status", "question_log")
    op.drop_table("question_log_conversations")
    op.drop_table("question_log_hourly")
