"""Hand-off tickets in the database: open, take, answer, close, rate.

Every method is one short transaction and returns plain snapshots (`Ticket`),
so callers in any process (action server, Rasa server, web app) share the
state through the database only. State changes are conditional updates
(`... WHERE status = 'open'`), so two team members pressing "Nhận" at once
cannot both take the ticket.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Tuple

from sqlalchemy import String, cast, delete, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import HandoffMessage, HandoffTicket, OfferedButton, WebOutbox, as_utc, utcnow

OPEN, TAKEN, CLOSED = "open", "taken", "closed"
ACTIVE = (OPEN, TAKEN)
# How long after closing a ticket the resident's next message may be a rating.
RATING_WINDOW = timedelta(days=1)
# A web chat message fetched by the page is kept this long, then deleted.
OUTBOX_KEEP = timedelta(days=1)
RESIDENT = "resident"
UNDELIVERED = "undelivered"  # closed_by of a ticket whose post never reached the team


@dataclass(frozen=True)
class Ticket:
    id: int
    channel: str
    conversation_id: str
    commune: Optional[str]
    team_chat_id: Optional[int]
    team_message_id: Optional[int]
    status: str
    opened_at: datetime
    taken_by: Optional[str] = None
    first_response_at: Optional[datetime] = None
    closed_at: Optional[datetime] = None
    rating: Optional[int] = None
    rated_at: Optional[datetime] = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @classmethod
    def of(cls, row: HandoffTicket) -> "Ticket":
        return cls(
            id=row.id, channel=row.channel, conversation_id=row.conversation_id, commune=row.commune,
            team_chat_id=row.team_chat_id, team_message_id=row.team_message_id, status=row.status,
            opened_at=as_utc(row.opened_at), taken_by=row.taken_by,
            first_response_at=as_utc(row.first_response_at), closed_at=as_utc(row.closed_at),
            rating=row.rating, rated_at=as_utc(row.rated_at),
        )


class TicketStore:
    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions

    # -- reading ---------------------------------------------------------------
    def get(self, ticket_id: int) -> Optional[Ticket]:
        with self._sessions() as session:
            row = session.get(HandoffTicket, ticket_id)
            return Ticket.of(row) if row else None

    def active_for(self, conversation_id: str) -> Optional[Ticket]:
        """The open or taken ticket of a conversation, if any."""
        with self._sessions() as session:
            row = session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.conversation_id == conversation_id, HandoffTicket.status.in_(ACTIVE))
                .order_by(HandoffTicket.id.desc())
                .limit(1)
            ).scalar_one_or_none()
            return Ticket.of(row) if row else None

    def awaiting_rating(self, conversation_id: str, now: Optional[datetime] = None) -> Optional[Ticket]:
        """The conversation's last ticket, if it was closed recently and not rated or declined yet."""
        now = now or utcnow()
        with self._sessions() as session:
            row = session.execute(
                select(HandoffTicket)
                .where(HandoffTicket.conversation_id == conversation_id)
                .order_by(HandoffTicket.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        if row is None or row.status != CLOSED or row.rated_at is not None or row.closed_at is None:
            return None
        if now - as_utc(row.closed_at) > RATING_WINDOW:
            return None
        return Ticket.of(row)

    def by_team_message(self, chat_id: int, message_id: int) -> Optional[Ticket]:
        """The ticket a message in a team group belongs to (the ticket post or a forwarded message)."""
        with self._sessions() as session:
            ticket_id = session.execute(
                select(HandoffMessage.ticket_id).where(
                    HandoffMessage.team_chat_id == chat_id, HandoffMessage.team_message_id == message_id
                )
            ).scalar_one_or_none()
            if ticket_id is None:
                return None
            row = session.get(HandoffTicket, ticket_id)
            return Ticket.of(row) if row else None

    def due_reminders(self, waited: timedelta, now: Optional[datetime] = None) -> List[Ticket]:
        """Open tickets nobody took for `waited`, not reminded yet."""
        cutoff = (now or utcnow()) - waited
        with self._sessions() as session:
            rows = session.execute(
                select(HandoffTicket)
                .where(
                    HandoffTicket.status == OPEN,
                    HandoffTicket.reminded_at.is_(None),
                    HandoffTicket.team_message_id.is_not(None),
                    HandoffTicket.opened_at <= cutoff,
                )
                .order_by(HandoffTicket.id)
            ).scalars().all()
            return [Ticket.of(row) for row in rows]

    def opened_for_group(self, team_chat_id: int, since: datetime) -> int:
        """How many tickets were opened for a team group since `since`."""
        with self._sessions() as session:
            return session.execute(
                select(func.count()).select_from(HandoffTicket)
                .where(HandoffTicket.team_chat_id == team_chat_id, HandoffTicket.opened_at >= since)
            ).scalar_one()

    # -- changing ----------------------------------------------------------------
    def open(self, channel: str, conversation_id: str, commune: Optional[str], team_chat_id: Optional[int]) -> Tuple[Ticket, bool]:
        """A new ticket, or the conversation's active one (False) if it already has one."""
        existing = self.active_for(conversation_id)
        if existing is not None:
            return existing, False
        with self._sessions() as session:
            row = HandoffTicket(
                channel=channel, conversation_id=conversation_id, commune=commune,
                team_chat_id=team_chat_id, status=OPEN, opened_at=utcnow(),
            )
            session.add(row)
            session.commit()
            return Ticket.of(row), True

    def posted(self, ticket_id: int, chat_id: int, message_id: int) -> None:
        """The ticket's own post in the team group."""
        with self._sessions() as session:
            session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id)
                .values(team_chat_id=chat_id, team_message_id=message_id)
            )
            session.add(HandoffMessage(ticket_id=ticket_id, team_chat_id=chat_id, team_message_id=message_id))
            session.commit()

    def add_message(self, ticket_id: int, chat_id: int, message_id: int) -> None:
        """A message forwarded to the group for this ticket (a reply to it reaches the resident)."""
        with self._sessions() as session:
            session.add(HandoffMessage(ticket_id=ticket_id, team_chat_id=chat_id, team_message_id=message_id))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()

    def discard(self, ticket_id: int) -> None:
        """A ticket that never reached the team (posting failed): closed without counting a response."""
        self._transition(ticket_id, ACTIVE, status=CLOSED, closed_at=utcnow(), closed_by=UNDELIVERED, rated_at=utcnow())

    def take(self, ticket_id: int, member: str) -> Tuple[Optional[Ticket], bool]:
        return self._transition(ticket_id, (OPEN,), status=TAKEN, taken_at=utcnow(), taken_by=member[:120])

    def close(self, ticket_id: int, member: str) -> Tuple[Optional[Ticket], bool]:
        return self._transition(ticket_id, ACTIVE, status=CLOSED, closed_at=utcnow(), closed_by=member[:120])

    def responded(self, ticket_id: int) -> None:
        """A team reply reached the resident (the first one counts)."""
        with self._sessions() as session:
            session.execute(
                update(HandoffTicket)
                .where(HandoffTicket.id == ticket_id, HandoffTicket.first_response_at.is_(None))
                .values(first_response_at=utcnow())
            )
            session.commit()

    def reminded(self, ticket_id: int) -> bool:
        """Mark the reminder sent; False if another process sent it already."""
        _, changed = self._transition(ticket_id, (OPEN,), reminded_at=utcnow(), extra=HandoffTicket.reminded_at.is_(None))
        return changed

    def rate(self, ticket_id: int, rating: Optional[int]) -> bool:
        """Store the resident's 1–5 rating (None: declined). False if already rated."""
        if rating is not None and not 1 <= rating <= 5:
            raise ValueError("a rating is 1 to 5")
        _, changed = self._transition(
            ticket_id, (CLOSED,), rating=rating, rated_at=utcnow(), extra=HandoffTicket.rated_at.is_(None)
        )
        return changed

    def _transition(self, ticket_id: int, allowed, extra=None, **values) -> Tuple[Optional[Ticket], bool]:  # noqa: ANN001
        conditions = [HandoffTicket.id == ticket_id, HandoffTicket.status.in_(tuple(allowed))]
        if extra is not None:
            conditions.append(extra)
        with self._sessions() as session:
            changed = session.execute(update(HandoffTicket).where(*conditions).values(**values)).rowcount == 1
            session.commit()
            row = session.get(HandoffTicket, ticket_id)
            return (Ticket.of(row) if row else None), changed


FORGOTTEN = "forgotten:"
BUTTON_KEEP = timedelta(hours=48)  # Zalo buttons offered to a resident (their id in clear)
# An open ticket with no message either way for this long is closed (and its address forgotten).
STALE_AFTER = timedelta(days=7)
STALE = "stale"  # closed_by of such a ticket


def close_stale(session: Session, now: Optional[datetime] = None) -> int:
    """Open or taken tickets without a message in the team group for STALE_AFTER are
    closed, dated as if their rating window had ended, so that the same retention pass
    forgets their clear address: an abandoned ticket does not keep it for ever."""
    now = now or utcnow()
    since = now - STALE_AFTER
    recent = select(HandoffMessage.ticket_id).where(HandoffMessage.created_at >= since)
    return session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.status.in_(ACTIVE), HandoffTicket.opened_at < since, ~HandoffTicket.id.in_(recent))
        .values(status=CLOSED, closed_by=STALE, closed_at=now - RATING_WINDOW - timedelta(seconds=1))
        .execution_options(synchronize_session=False)
    ).rowcount or 0


def forget_addresses(session: Session, now: Optional[datetime] = None) -> int:
    """Closed tickets whose rating window ended keep no clear `telegram:<id>`/`zalo:<id>`:
    the address becomes `forgotten:<ticket id>` (the ticket still counts in the statistics)."""
    now = now or utcnow()
    return session.execute(
        update(HandoffTicket)
        .where(HandoffTicket.status == CLOSED, HandoffTicket.closed_at < now - RATING_WINDOW,
               ~HandoffTicket.conversation_id.startswith(FORGOTTEN))
        .values(conversation_id=literal(FORGOTTEN) + cast(HandoffTicket.id, String))
        .execution_options(synchronize_session=False)
    ).rowcount or 0


def prune(session: Session, cutoff: datetime, now: Optional[datetime] = None) -> int:
    """Retention (with the question log's, hourly): tickets closed before `cutoff` and
    their group messages; abandoned open tickets (STALE_AFTER) closed; the clear
    address of tickets past their rating window;
    Zalo buttons offered more than 48 h ago; web chat outbox rows fetched a day ago
    or older than `cutoff`. The caller commits. Returns how many tickets went."""
    now = now or utcnow()
    old = select(HandoffTicket.id).where(HandoffTicket.status == CLOSED, HandoffTicket.closed_at < cutoff)
    session.execute(delete(HandoffMessage).where(HandoffMessage.ticket_id.in_(old)).execution_options(synchronize_session=False))
    removed = session.execute(
        delete(HandoffTicket).where(HandoffTicket.status == CLOSED, HandoffTicket.closed_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount or 0
    close_stale(session, now)
    forget_addresses(session, now)
    session.execute(
        delete(OfferedButton).where(OfferedButton.offered_at < now - BUTTON_KEEP).execution_options(synchronize_session=False)
    )
    session.execute(
        delete(WebOutbox).where(or_(WebOutbox.delivered_at < now - OUTBOX_KEEP, WebOutbox.created_at < cutoff))
        .execution_options(synchronize_session=False)
    )
    return removed
