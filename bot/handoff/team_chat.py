"""The community team's side of a hand-off: their Telegram group.

Everything from the resident is masked here, before it leaves for Telegram.
The bot posts the ticket (recent messages masked, buttons Nhận / Đóng),
forwards what the resident writes as replies to it, and reminds the group of a
ticket nobody took. Every post is recorded (TicketStore.add_message) so a team
member's reply to any of them reaches the resident.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Iterable, Mapping, Optional

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.channels.telegram_bot import BotHandle, TelegramConfig, build_bot
from bot.handoff.tickets import Ticket, TicketStore
from bot.prompts import section
from bot.questionlog.masking import mask

logger = logging.getLogger(__name__)

CALLBACK_PREFIX = "tk:"  # tk:take:<id>, tk:close:<id>
TAKE, CLOSE = "take", "close"
RECENT_LIMIT = 5
QUOTE_LIMIT = 300  # characters of one recent message in the ticket post
FORWARD_LIMIT = 3500  # Telegram allows 4,096 characters per message


def texts() -> Mapping[str, object]:
    return section("relay")


def fallback_chat_id(env: Optional[Mapping[str, str]] = None) -> Optional[int]:
    """TELEGRAM_HANDOFF_CHAT_ID: the group for communes without one of their own."""
    env = os.environ if env is None else env
    value = env.get("TELEGRAM_HANDOFF_CHAT_ID", "").strip()
    try:
        return int(value) if value else None
    except ValueError:
        logger.error("TELEGRAM_HANDOFF_CHAT_ID=%r is not a Telegram chat id; ignored", value)
        return None


def callback_data(action: str, ticket_id: int) -> str:
    return f"{CALLBACK_PREFIX}{action}:{ticket_id}"


def parse_callback(data: str) -> Optional[tuple]:
    """'tk:take:12' -> ('take', 12); None for anything else."""
    parts = (data or "").split(":")
    if len(parts) != 3 or parts[0] + ":" != CALLBACK_PREFIX or parts[1] not in (TAKE, CLOSE) or not parts[2].isdigit():
        return None
    return parts[1], int(parts[2])


def ticket_keyboard(ticket_id: int, taken: bool = False) -> InlineKeyboardMarkup:
    buttons = texts()["buttons"]
    row = [] if taken else [InlineKeyboardButton(buttons["take"], callback_data=callback_data(TAKE, ticket_id))]
    row.append(InlineKeyboardButton(buttons["close"], callback_data=callback_data(CLOSE, ticket_id)))
    return InlineKeyboardMarkup([row])


def ticket_post(ticket: Ticket, recent: Iterable[str]) -> str:
    prompts = texts()
    quoted = [f"• {mask(line)[:QUOTE_LIMIT]}" for line in recent if line.strip()][-RECENT_LIMIT:]
    return prompts["ticket"].format(
        id=ticket.id,
        commune=ticket.commune or "—",
        channel=prompts["channel_names"].get(ticket.channel, ticket.channel),
        recent="\n".join(quoted) or prompts["no_recent"],
    )


class TeamChat:
    """Posts to the team groups through the assistant's Telegram bot."""

    def __init__(self, bot_handle: BotHandle, tickets: TicketStore) -> None:
        self.bot_handle = bot_handle
        self.tickets = tickets

    @classmethod
    def from_env(cls, tickets: TicketStore, env: Optional[Mapping[str, str]] = None) -> Optional["TeamChat"]:
        """None when Telegram is off (no TELEGRAM_BOT_TOKEN): hand-off gives contacts only."""
        config = TelegramConfig.from_env(env)
        if not config.token:
            return None
        return cls(BotHandle(build_bot(config)), tickets)

    async def post_ticket(self, ticket: Ticket, recent: Iterable[str]) -> bool:
        """Post a new ticket to its group; False if Telegram refused or is unreachable."""
        if ticket.team_chat_id is None:
            return False
        try:
            bot = await self.bot_handle.ready()
            message = await bot.send_message(
                ticket.team_chat_id, ticket_post(ticket, recent), reply_markup=ticket_keyboard(ticket.id)
            )
        except TelegramError as error:
            logger.error("hand-off: posting ticket #%s to %s failed: %s", ticket.id, ticket.team_chat_id, error)
            return False
        await asyncio.to_thread(self.tickets.posted, ticket.id, ticket.team_chat_id, message.message_id)
        return True

    async def say(self, ticket: Ticket, text: str, record: bool = False) -> bool:
        """A message about the ticket in its group, as a reply to the ticket post."""
        if ticket.team_chat_id is None:
            return False
        try:
            bot = await self.bot_handle.ready()
            message = await bot.send_message(
                ticket.team_chat_id, text[:FORWARD_LIMIT],
                reply_to_message_id=ticket.team_message_id, allow_sending_without_reply=True,
            )
        except TelegramError as error:
            logger.error("hand-off: message to group %s for #%s failed: %s", ticket.team_chat_id, ticket.id, error)
            return False
        if record:
            await asyncio.to_thread(self.tickets.add_message, ticket.id, ticket.team_chat_id, message.message_id)
        return True

    async def forward(self, ticket: Ticket, text: str, scam: bool = False) -> bool:
        """The resident's message, masked, as a reply to the ticket post."""
        template = texts()["forwarded_scam" if scam else "forwarded"]
        return await self.say(ticket, template.format(id=ticket.id, text=mask(text)), record=True)

    async def mark_taken(self, ticket: Ticket) -> None:
        """The ticket post keeps only Đóng once someone took it."""
        await self._edit_keyboard(ticket, ticket_keyboard(ticket.id, taken=True))

    async def mark_closed(self, ticket: Ticket) -> None:
        await self._edit_keyboard(ticket, None)

    async def _edit_keyboard(self, ticket: Ticket, markup: Optional[InlineKeyboardMarkup]) -> None:
        if ticket.team_chat_id is None or ticket.team_message_id is None:
            return
        try:
            bot = await self.bot_handle.ready()
            await bot.edit_message_reply_markup(ticket.team_chat_id, ticket.team_message_id, reply_markup=markup)
        except TelegramError as error:  # e.g. "message is not modified": harmless
            logger.info("hand-off: could not update the buttons of #%s: %s", ticket.id, error)
