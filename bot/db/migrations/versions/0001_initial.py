"""Channel tables (de-duplication, tokens, button payloads) and the question log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "delivery_id", name="uq_channel_delivery"),
    )
    op.create_index("ix_channel_deliveries_received_at", "channel_deliveries", ["received_at"])
    op.create_table(
        "channel_tokens",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("seed_fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "button_payloads",
        sa.Column("key", sa.String(32), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "offered_buttons",
        sa.Column("channel", sa.String(32), primary_key=True),
        sa.Column("recipient", sa.String(128), primary_key=True),
        sa.Column("title", sa.String(200), primary_key=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_offered_buttons_offered_at", "offered_buttons", ["offered_at"])
    op.create_table(
        "question_log",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("sender_hash", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(64), nullable=False),
        sa.Column("text_masked", sa.Text(), nullable=False),
        sa.Column("intent", sa.String(100)),
        sa.Column("confidence", sa.Float()),
        sa.Column("ranking", sa.JSON()),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("out_of_scope", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text()),
        sa.Column("handoff", sa.Boolean(), nullable=False),
        sa.Column("review_status", sa.String(16)),
        sa.Column("assigned_intent", sa.String(100)),
    )
    op.create_index("ix_question_log_asked_at", "question_log", ["asked_at"])
    op.create_index("ix_question_log_channel_asked_at", "question_log", ["channel", "asked_at"])
    op.create_index("ix_question_log_intent_asked_at", "question_log", ["intent", "asked_at"])
    op.create_index("ix_question_log_fallback_asked_at", "question_log", ["fallback", "asked_at"])
    op.create_index("ix_question_log_conversation", "question_log", ["conversation_id"])


def downgrade() -> None:
    op.drop_table("question_log")
    op.drop_table("offered_buttons")
    op.drop_table("button_payloads")
    op.drop_table("channel_tokens")
    op.drop_table("channel_deliveries")
