"""Durable webhook inbox: accepted deliveries kept until answered (several Rasa servers).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_inbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(128), nullable=False),
        sa.Column("payload", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("channel", "delivery_id", name="uq_webhook_inbox_delivery"),
    )
    op.create_index("ix_webhook_inbox_status_lease", "webhook_inbox", ["status", "lease_until"])
    op.create_index("ix_webhook_inbox_received_at", "webhook_inbox", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_received_at", "webhook_inbox")
    op.drop_index("ix_webhook_inbox_status_lease", "webhook_inbox")
    op.drop_table("webhook_inbox")
