"""All database models of Trợ lý số, in one place.

SQLAlchemy 1.4 with the 2.0-style API. The same models run on SQLite (the
default, under var/) and PostgreSQL (DATABASE_URL).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import JSON, BigInteger, Boolean, Column, Date, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import declarative_base

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: Optional[datetime]) -> Optional[datetime]:
    """`value` as an aware UTC datetime; naive values (SQLite gives them back even from
    `DateTime(timezone=True)` columns) are taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class ChannelDelivery(Base):
    """A webhook delivery a messenger sent us, kept to process each one once.

    Zalo and Telegram re-deliver when an answer is slow or lost; the unique
    (channel, delivery_id) pair makes the second delivery a no-op, also after a
    restart. Rows older than a few days are pruned.
    """

    __tablename__ = "channel_deliveries"
    __table_args__ = (
        UniqueConstraint("channel", "delivery_id", name="uq_channel_delivery"),
        Index("ix_channel_deliveries_received_at", "received_at"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    delivery_id = Column(String(128), nullable=False)
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class WebhookInboxItem(Base):
    """An accepted webhook delivery, kept until it is answered (REDIS_URL set).

    The server that answered 200 handles it under a lease; if that server dies,
    a live one replays the delivery once the lease is over. The raw body (the
    resident's unmasked message) is cleared as soon as the delivery is done.
    """

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint("channel", "delivery_id", name="uq_webhook_inbox_delivery"),
        Index("ix_webhook_inbox_status_lease", "status", "lease_until"),
        Index("ix_webhook_inbox_received_at", "received_at"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)
    delivery_id = Column(String(128), nullable=False)
    payload = Column(Text)  # the raw body; None once done
    status = Column(String(16), nullable=False)  # pending / done / failed
    attempts = Column(Integer, nullable=False, default=1)
    lease_until = Column(DateTime(timezone=True))
    received_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


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


class QuestionLogEntry(Base):
    """One resident message, from any channel, with personal data masked.

    Written by the question-log event broker (bot/questionlog/broker.py) once
    the assistant has answered: the text is masked before it gets here, the
    sender and conversation are keyed hashes.
    """

    __tablename__ = "question_log"
    __table_args__ = (
        Index("ix_question_log_asked_at", "asked_at"),
        Index("ix_question_log_channel_asked_at", "channel", "asked_at"),
        Index("ix_question_log_intent_asked_at", "intent", "asked_at"),
        Index("ix_question_log_fallback_asked_at", "fallback", "asked_at"),
        Index("ix_question_log_conversation", "conversation_id"),
        Index("ix_question_log_review_status", "review_status"),
    )

    id = Column(Integer, primary_key=True)
    asked_at = Column(DateTime(timezone=True), nullable=False)
    channel = Column(String(32), nullable=False)
    sender_hash = Column(String(64), nullable=False)
    conversation_id = Column(String(64), nullable=False)
    text_masked = Column(Text, nullable=False)
    intent = Column(String(100))
    confidence = Column(Float)
    ranking = Column(JSON)  # top 3: [{"name": ..., "confidence": ...}]
    fallback = Column(Boolean, nullable=False, default=False)
    out_of_scope = Column(Boolean, nullable=False, default=False)
    answer = Column(Text)  # the responses and actions that answered, in order
    handoff = Column(Boolean, nullable=False, default=False)
    review_status = Column(String(16))  # unanswered inbox: assigned / new_topic / ignored
    assigned_intent = Column(String(100))


class AdminUser(Base):
    """A person who may open /admin. Passwords are stored as scrypt hashes."""

    __tablename__ = "admin_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(Text, nullable=False)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_login_at = Column(DateTime(timezone=True))
    # "editor" proposes answer changes, "approver" also publishes others' changes (bot/answers/)
    role = Column(String(16), nullable=False, default="approver")


class AdminSession(Base):
    """A logged-in browser: the cookie holds a random token, we keep its hash."""

    __tablename__ = "admin_sessions"
    __table_args__ = (Index("ix_admin_sessions_expires_at", "expires_at"),)

    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    expires_at = Column(DateTime(timezone=True), nullable=False)


class QuestionLogHourly(Base):
    """Messages per hour, channel, topic and fallback: what the dashboard charts read.

    Kept up to date by the log writer in the same transaction as the rows
    (bot/questionlog/rollups.py), so a month of a million messages is a few
    tens of thousands of rows here. Hours are UTC; Viet Nam time is UTC+7.
    """

    __tablename__ = "question_log_hourly"

    hour = Column(DateTime(timezone=True), primary_key=True)
    channel = Column(String(32), primary_key=True)
    intent = Column(String(100), primary_key=True)  # "" when no intent
    fallback = Column(Boolean, primary_key=True)
    messages = Column(Integer, nullable=False, default=0)
    handoffs = Column(Integer, nullable=False, default=0)


class QuestionLogConversation(Base):
    """One row per conversation: residents, conversations, containment and hand-off rates."""

    __tablename__ = "question_log_conversations"
    __table_args__ = (
        Index("ix_question_log_conversations_started_at", "started_at"),
        Index("ix_question_log_conversations_channel_started_at", "channel", "started_at"),
    )

    conversation_id = Column(String(64), primary_key=True)
    sender_hash = Column(String(64), nullable=False)
    resident = Column(BigInteger, nullable=False)  # first 60 bits of sender_hash: distinct counts stay fast
    channel = Column(String(32), nullable=False)
    started_at = Column(DateTime(timezone=True), nullable=False)
    last_at = Column(DateTime(timezone=True), nullable=False)
    messages = Column(Integer, nullable=False, default=0)
    fell_back = Column(Boolean, nullable=False, default=False)
    handed_off = Column(Boolean, nullable=False, default=False)


class Team(Base):
    """A commune's or ward's community digital technology team (the team directory).

    Imported from CSV with `python -m bot directory import FILE` (all rows or
    none). `commune_key` is the folded name without "xã/phường" (bot/directory/teams.py),
    so "tan lap", "Xã Tân Lập" and "tân lập" find the same team.
    """

    __tablename__ = "teams"

    id = Column(Integer, primary_key=True)
    commune = Column(String(120), nullable=False)
    commune_key = Column(String(120), nullable=False, unique=True)
    team_name = Column(String(200), nullable=False)
    phone = Column(String(32), nullable=False)
    telegram_chat_id = Column(BigInteger)  # the team's Telegram group; None: TELEGRAM_HANDOFF_CHAT_ID
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class HandoffTicket(Base):
    """A resident handed to a person of the commune's team (bot/handoff/).

    While a ticket is open (`open` or `taken`) the assistant stays quiet and the
    resident's messages go to the team's Telegram group; `conversation_id` is
    the address to deliver the team's replies to (Rasa's sender id: `telegram:…`,
    `zalo:…`, or the web chat's id), kept in clear only on the ticket.
    """

    __tablename__ = "handoff_tickets"
    __table_args__ = (
        Index("ix_handoff_tickets_conversation_status", "conversation_id", "status"),
        Index("ix_handoff_tickets_status_opened_at", "status", "opened_at"),
        Index("ix_handoff_tickets_opened_at", "opened_at"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(32), nullable=False)  # telegram / zalo / rest (web chat)
    conversation_id = Column(String(128), nullable=False)
    commune = Column(String(120))
    team_chat_id = Column(BigInteger)
    team_message_id = Column(BigInteger)
    status = Column(String(16), nullable=False, default="open")  # open / taken / closed
    opened_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    taken_at = Column(DateTime(timezone=True))
    taken_by = Column(String(120))
    first_response_at = Column(DateTime(timezone=True))
    reminded_at = Column(DateTime(timezone=True))
    closed_at = Column(DateTime(timezone=True))
    closed_by = Column(String(120))
    rating = Column(Integer)
    rated_at = Column(DateTime(timezone=True))


class HandoffMessage(Base):
    """A message of a ticket in the team's group: a reply to any of them reaches the resident."""

    __tablename__ = "handoff_messages"
    __table_args__ = (UniqueConstraint("team_chat_id", "team_message_id", name="uq_handoff_message"),)

    id = Column(Integer, primary_key=True)
    ticket_id = Column(Integer, nullable=False, index=True)
    team_chat_id = Column(BigInteger, nullable=False)
    team_message_id = Column(BigInteger, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class WebOutbox(Base):
    """Messages for a web-chat resident that did not come as an answer (team replies).

    The web chat page fetches them from /api/chat/updates.
    """

    __tablename__ = "web_outbox"
    __table_args__ = (Index("ix_web_outbox_conversation_delivered", "conversation_id", "delivered_at"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(128), nullable=False)
    message = Column(JSON, nullable=False)  # {"text": ..., "buttons": [...]}
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    delivered_at = Column(DateTime(timezone=True))


class Answer(Base):
    """One editable answer: a domain response (`utter_*`), a journey step or a topic's sources.

    `key` is "response:<utter_name>", "journey:<journey>/<step>" or
    "source:<intent>". `seed` is the content the repo files had at the last
    start (bot/answers/store.py seeds and re-syncs it); what residents get is
    the version `published_version_id` names.
    """

    __tablename__ = "answers"

    id = Column(Integer, primary_key=True)
    key = Column(String(200), nullable=False, unique=True)
    kind = Column(String(16), nullable=False)  # response / journey / source
    seed = Column(JSON, nullable=False)
    published_version_id = Column(Integer)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)


class AnswerVersion(Base):
    """A version of an answer: every edit is kept, with who, when and why.

    Status: draft (being edited), review (waiting for an approver), published
    (what residents get; one per answer), archived (was published), rejected.
    """

    __tablename__ = "answer_versions"
    __table_args__ = (
        UniqueConstraint("answer_id", "number", name="uq_answer_version_number"),
        Index("ix_answer_versions_status", "status"),
    )

    id = Column(Integer, primary_key=True)
    answer_id = Column(Integer, nullable=False, index=True)
    number = Column(Integer, nullable=False)
    content = Column(JSON, nullable=False)
    status = Column(String(16), nullable=False)
    author = Column(String(64), nullable=False)  # an admin username, or "repo" for the files
    reason = Column(Text, nullable=False, default="")
    source = Column(Text)  # where the facts come from (document number and date, or official page)
    checked_on = Column(Date)  # when that source was checked
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    reviewed_by = Column(String(64))
    reviewed_at = Column(DateTime(timezone=True))
    published_at = Column(DateTime(timezone=True))


class AnswerRevision(Base):
    """One row: a counter raised by every publish, polled by every process to refresh its cache."""

    __tablename__ = "answer_revision"

    id = Column(Integer, primary_key=True)
    revision = Column(Integer, nullable=False, default=0)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)
