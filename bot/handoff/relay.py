"""The live hand-off relay between a resident and their commune's team group.

- `intercept`: every resident message passes here before the assistant. While
  the conversation has an open ticket, the assistant stays quiet and the
  message (masked) goes to the team group; a message the scam guard flags is
  forwarded *and* answered by the assistant, so the safety warning never waits
  for a person. Right after a ticket closes, the next message may be the
  resident's 1–5 rating.
- `take`, `close`, `team_reply`: what a team member does in the group.
- `send_reminders`: a ticket nobody took in HANDOFF_REMINDER_MINUTES (15) gets a
  reminder in the group.

The relay runs wherever a resident's message arrives (the Rasa server for
Telegram and Zalo, the web app for the web chat); the database is the only
state it shares.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Dict, List, Mapping, Optional

from sqlalchemy.orm import sessionmaker

from bot.handoff.residents import ResidentMessenger, WebOutboxStore
from bot.handoff.team_chat import TeamChat, texts
from bot.handoff.tickets import RESIDENT, Ticket, TicketStore
from bot.journeys.render import MENU_PAYLOAD
from bot.nlu.normalizer import normalize
from bot.nlu.scam_detector import default_detector

logger = logging.getLogger(__name__)

END_PAYLOAD = "/handoff_end"
# Message metadata set by the web app when the resident's client address has opened
# WEB_HANDOFF_TICKETS_PER_IP_HOUR tickets this hour (bot/web/limits.py): no new ticket.
HANDOFF_CAPPED = "handoff_capped"
RATING_PAYLOAD = '/handoff_rating{"rating":%d}'
_RATING_PAYLOAD_RE = re.compile(r'^/handoff_rating\{"rating":\s*([1-5])\}$')
_TYPED_RATING_RE = re.compile(r"^([1-5])(?: (?:sao|diem))?$")
END_PHRASES = frozenset(normalize(p) for p in ("kết thúc", "kết thúc hỗ trợ", "ket thuc ho tro", "thoát hỗ trợ"))
DEFAULT_REMINDER_MINUTES = 15.0


def reminder_after(env: Optional[Mapping[str, str]] = None) -> timedelta:
    env = os.environ if env is None else env
    try:
        minutes = float(env.get("HANDOFF_REMINDER_MINUTES", "") or DEFAULT_REMINDER_MINUTES)
    except ValueError:
        minutes = DEFAULT_REMINDER_MINUTES
    return timedelta(minutes=max(minutes, 0.01))


def rating_of(text: str) -> Optional[int]:
    """A rating button's payload or a typed "5" / "5 sao"; None otherwise."""
    match = _RATING_PAYLOAD_RE.match(text.strip())
    if match:
        return int(match.group(1))
    match = _TYPED_RATING_RE.match(normalize(text))
    return int(match.group(1)) if match else None


def is_end(text: str) -> bool:
    return text.strip() == END_PAYLOAD or normalize(text) in END_PHRASES


def end_button() -> Dict[str, str]:
    return {"title": texts()["buttons"]["end"], "payload": END_PAYLOAD}


def menu_button() -> Dict[str, str]:
    return {"title": texts()["buttons"]["menu"], "payload": MENU_PAYLOAD}


def rating_question() -> Dict[str, Any]:
    return {
        "text": texts()["ask_rating"],
        "buttons": [{"title": "⭐" * n + f" {n}", "payload": RATING_PAYLOAD % n} for n in range(5, 0, -1)],
    }


@dataclass
class Outcome:
    """What became of a resident's message."""

    to_assistant: bool = True  # the assistant answers it as usual
    replies: List[Dict[str, Any]] = field(default_factory=list)  # to the resident, before any answer


class Relay:
    def __init__(self, tickets: TicketStore, team_chat: Optional[TeamChat], residents: ResidentMessenger) -> None:
        self.tickets = tickets
        self.team_chat = team_chat
        self.residents = residents

    @classmethod
    def from_env(cls, sessions: sessionmaker, env: Optional[Mapping[str, str]] = None) -> "Relay":
        tickets = TicketStore(sessions)
        return cls(tickets, TeamChat.from_env(tickets, env), ResidentMessenger(WebOutboxStore(sessions)))

    # -- the resident's messages ---------------------------------------------------
    async def intercept(self, conversation_id: str, text: str) -> Outcome:
        ticket = await asyncio.to_thread(self.tickets.active_for, conversation_id)
        if ticket is not None:
            return await self._during(ticket, text)
        rated = await asyncio.to_thread(self.tickets.awaiting_rating, conversation_id)
        if rated is None:
            return Outcome()
        rating = rating_of(text)
        await asyncio.to_thread(self.tickets.rate, rated.id, rating)  # anything else: declined
        if rating is None:
            return Outcome()
        return Outcome(False, [{"text": texts()["thanks"], "buttons": [menu_button()]}])

    async def _during(self, ticket: Ticket, text: str) -> Outcome:
        prompts = texts()
        if is_end(text):
            closed, changed = await asyncio.to_thread(self.tickets.close, ticket.id, RESIDENT)
            if changed and self.team_chat is not None:
                await self.team_chat.say(closed, prompts["ended_by_resident"].format(id=ticket.id))
                await self.team_chat.mark_closed(closed)
            return Outcome(False, [{"text": prompts["closed"]}, rating_question()])
        if text.strip().startswith("/"):  # an old button of the assistant: stay with the team
            return Outcome(False, [{"text": prompts["still_waiting"], "buttons": [end_button()]}])
        scam = default_detector().reason(text) is not None
        sent = self.team_chat is not None and await self.team_chat.forward(ticket, text, scam=scam)
        replies = [] if sent else [{"text": prompts["not_sent"], "buttons": [end_button()]}]
        return Outcome(scam, replies)

    # -- the team's actions ---------------------------------------------------------
    async def _foreign(self, ticket_id: int, chat_id: Optional[int]) -> bool:
        """A button pressed in another group than the one the ticket was posted to."""
        if chat_id is None:
            return False
        ticket = await asyncio.to_thread(self.tickets.get, ticket_id)
        if ticket is not None and ticket.team_chat_id == chat_id:
            return False
        logger.warning("hand-off: a button of ticket #%s pressed outside its group; ignored", ticket_id)
        return True

    async def take(self, ticket_id: int, member: str, chat_id: Optional[int] = None) -> str:
        """A team member pressed Nhận (in group `chat_id`); the answer shown to them."""
        prompts = texts()
        if await self._foreign(ticket_id, chat_id):
            return prompts["no_ticket"].format(id=ticket_id)
        ticket, changed = await asyncio.to_thread(self.tickets.take, ticket_id, member)
        if ticket is None:
            return prompts["no_ticket"].format(id=ticket_id)
        if not changed:
            answer = prompts["already_taken"] if ticket.active else prompts["already_closed"]
            return answer.format(id=ticket_id, member=ticket.taken_by)
        await self._announce_taken(ticket, member)
        return prompts["you_took"].format(id=ticket_id)

    async def _announce_taken(self, ticket: Ticket, member: str) -> None:
        prompts = texts()
        if self.team_chat is not None:
            await self.team_chat.mark_taken(ticket)
            await self.team_chat.say(ticket, prompts["taken_by"].format(member=member, id=ticket.id))
        await self.residents.send(ticket.channel, ticket.conversation_id, {"text": prompts["taken"].format(member=member)})

    async def close(self, ticket_id: int, member: str, chat_id: Optional[int] = None) -> str:
        prompts = texts()
        if await self._foreign(ticket_id, chat_id):
            return prompts["no_ticket"].format(id=ticket_id)
        ticket, changed = await asyncio.to_thread(self.tickets.close, ticket_id, member)
        if ticket is None:
            return prompts["no_ticket"].format(id=ticket_id)
        if not changed:
            return prompts["already_closed"].format(id=ticket_id)
        if self.team_chat is not None:
            await self.team_chat.mark_closed(ticket)
            await self.team_chat.say(ticket, prompts["closed_by"].format(member=member, id=ticket.id))
        await self.residents.send(ticket.channel, ticket.conversation_id, {"text": prompts["closed"]})
        await self.residents.send(ticket.channel, ticket.conversation_id, rating_question())
        return prompts["you_closed"].format(id=ticket_id)

    async def team_reply(self, chat_id: int, replied_to: int, member: str, text: Optional[str]) -> bool:
        """A message in a team group that replies to one of a ticket's posts; False if it is not one."""
        ticket = await asyncio.to_thread(self.tickets.by_team_message, chat_id, replied_to)
        if ticket is None:
            return False
        prompts = texts()
        if not ticket.active:
            if self.team_chat is not None:
                await self.team_chat.say(ticket, prompts["already_closed"].format(id=ticket.id))
            return True
        if not (text or "").strip():
            if self.team_chat is not None:
                await self.team_chat.say(ticket, prompts["text_only"])
            return True
        if ticket.status == "open":  # answering is taking
            taken, changed = await asyncio.to_thread(self.tickets.take, ticket.id, member)
            if changed:
                await self._announce_taken(taken, member)
        said = prompts["team_says"].format(member=member, text=text.strip())
        await self.residents.send(ticket.channel, ticket.conversation_id, {"text": said, "buttons": [end_button()]})
        await asyncio.to_thread(self.tickets.responded, ticket.id)
        return True

    async def send_reminders(self, waited: timedelta) -> int:
        if self.team_chat is None:
            return 0
        sent = 0
        for ticket in await asyncio.to_thread(self.tickets.due_reminders, waited):
            if not await asyncio.to_thread(self.tickets.reminded, ticket.id):
                continue  # another process reminded it meanwhile
            minutes = int(waited.total_seconds() // 60) or 1
            text = texts()["reminder"].format(id=ticket.id, commune=ticket.commune or "—", minutes=minutes)
            sent += await self.team_chat.say(ticket, text)
        return sent

    async def remind_forever(self, waited: timedelta, every: float) -> None:
        """Background task of the Rasa server."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.send_reminders(waited)
            except Exception:
                logger.exception("hand-off: reminder sweep failed")


_shared: Optional[Relay] = None


def shared_relay(sessions: sessionmaker) -> Relay:
    """One relay per process (the channels of the Rasa server share it)."""
    global _shared
    if _shared is None:
        _shared = Relay.from_env(sessions)
    return _shared
