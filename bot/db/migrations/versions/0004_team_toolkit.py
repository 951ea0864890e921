"""Team directory, hand-off tickets and their group messages, web chat outbox.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("commune", sa.String(120), nullable=False),
        sa.Column("commune_key", sa.String(120), nullable=False, unique=True),
        sa.Column("team_name", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("telegram_chat_id", sa.BigInteger()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "handoff_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("commune", sa.String(120)),
        sa.Column("team_chat_id", sa.BigInteger()),
        sa.Column("team_message_id", sa.BigInteger()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True)),
        sa.Column("taken_by", sa.String(120)),
        sa.Column("first_response_at", sa.DateTime(timezone=True)),
        sa.Column("reminded_at", sa.DateTime(timezone=True)),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(120)),
        sa.Column("rating", sa.Integer()),
        sa.Column("rated_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_handoff_tickets_conversation_status", "handoff_tickets", ["conversation_id", "status"])
    op.create_index("ix_handoff_tickets_status_opened_at", "handoff_tickets", ["status", "opened_at"])
    op.create_index("ix_handoff_tickets_opened_at", "handoff_tickets", ["opened_at"])
    op.create_table(
        "handoff_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("team_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("team_message_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("team_chat_id", "team_message_id", name="uq_handoff_message"),
    )
    op.create_index("ix_handoff_messages_ticket_id", "handoff_messages", ["ticket_id"])
    op.create_table(
        "web_outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_web_outbox_conversation_delivered", "web_outbox", ["conversation_id", "delivered_at"])


def downgrade() -> None:
    op.drop_table("web_outbox")
    op.drop_table("handoff_messages")
    op.drop_table("handoff_tickets")
    op.drop_table("teams")
