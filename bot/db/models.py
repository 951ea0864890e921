"""All database models of Trợ lý số, in one place.

SQLAlchemy 1.4 with the 2.0-style API. The same models run on SQLite (the
default, under var/) and PostgreSQL (DATABASE_URL).
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class ChannelDelivery(Base):
    """A webhook delivery a messenger sent us, kept to process each one once.

    Zalo and Telegram re-deliver when an answer is slow or lost; the unique
    (channel, delivery_id) pair makes the second delivery a no-op, also after a
    restart. Rows older than a few days are pruned.
    """

    __tablename__ = "channel_deliveries"
    __table_args__ = (UniqueConstraint("channel", "delivery_id", name="uq_channel_delivery"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    delivery_id = Column(String(128), nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, index=True)


class ChannelToken(Base):
    """The current OAuth tokens of a channel (Zalo), stored before they are used.

    Each Zalo refresh returns a new refresh token and invalidates the old one,
    so losing it means re-authorising the Official Account by hand.
    `seed_fingerprint` remembers which configured refresh token the row grew
    from: when the operator configures a new one, it replaces the stored pair.
    """

    __tablename__ = "channel_tokens"

    channel = Column(String(32), primary_key=True)
    access_token = Column(Text, nullable=False)
    refresh_token = Column(Text, nullable=False)
    expires_at = Column(DateTime(timezone=True))
    seed_fingerprint = Column(String(64), nullable=False)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class ButtonPayload(Base):
    """A button payload too long for the messenger, stored under a short key.

    Telegram's callback_data holds 64 bytes; a payload such as
    /inform_commune{"commune": "Phường ..."} does not fit.
    """

    __tablename__ = "button_payloads"

    key = Column(String(32), primary_key=True)
    payload = Column(Text, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class OfferedButton(Base):
    """The buttons last offered to a recipient, to read a tap back as its payload.

    Zalo's oa.query.show button posts its payload back as the user's own chat
    message, visible to them, so we send the button title as payload and map it
    back here.
    """

    __tablename__ = "offered_buttons"
    __table_args__ = (Index("ix_offered_buttons_offered_at", "offered_at"),)

    channel = Column(String(32), primary_key=True)
    recipient = Column(String(128), primary_key=True)
    title = Column(String(200), primary_key=True)
    payload = Column(Text, nullable=False)
    offered_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
