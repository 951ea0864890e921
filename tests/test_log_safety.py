"""No secret and no personal data in any process's log (the test assistant's combined log)."""
import logging

from bot.log_safety import REDACTED, RedactSecrets, protect_logs
from tests.handoff.test_relay_e2e import HOA_BINH, open_by_telegram, telegram_chats, telegram_says, wait_group_post

PERSONAL = {
    "phone": "0912345678",
    "id card": "079203001234",
    "card": "4111 1111 1111 1111",
    "otp": "482913",
    "bank account": "19036652240011",
}


def test_a_handoff_logs_neither_the_bot_token_nor_personal_data(assistant, fake_telegram):
    fake, chat = fake_telegram, next(telegram_chats)
    open_by_telegram(assistant, fake, chat, first=f"so dien thoai cua toi {PERSONAL['phone']} ma otp {PERSONAL['otp']}")
    telegram_says(assistant, fake, chat, f"cccd {PERSONAL['id card']} the {PERSONAL['card']} stk {PERSONAL['bank account']}")
    posted = wait_group_post(fake, HOA_BINH, "cccd")
    assert PERSONAL["id card"] not in posted.params["text"]
    log = assistant["log"].read_text(errors="replace")
    assert "sendMessage" in "".join(c.method for c in fake.calls), "the bot did call the Bot API"
    assert fake.token not in log, "the bot token is in a log"
    for kind, value in PERSONAL.items():
        assert value not in log, f"{kind} in a log"
    assert str(chat) not in log, "a clear Telegram id in a log"


def test_the_filter_redacts_a_token_left_in_a_record(caplog):
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET /bot%s/getMe failed", ("123456789:" + "A" * 35,), None)
    RedactSecrets([]).filter(record)
    assert record.getMessage() == f"GET /bot{REDACTED}/getMe failed"
    configured = logging.LogRecord("x", logging.ERROR, __file__, 1, "token %s", ("7000001:TEST-token",), None)
    RedactSecrets(["7000001:TEST-token"]).filter(configured)
    assert "TEST-token" not in configured.getMessage()


def test_http_client_loggers_are_quiet():
    protect_logs()
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
