"""Every topic answer has a checked source of its facts, not older than 12 months,
and the library shows when it was last checked."""
from datetime import date, timedelta

import pytest

from bot.library.catalogue import TOPIC, catalogue
from bot.library.sources import MAX_AGE_DAYS, PLACE, read_sources, sources

CONVERSATIONAL = {"greet", "goodbye", "thank", "affirm", "deny", "request_human", "out_of_scope", "ask_help_menu"}


def topic_answers(topics):
    return [t for t in topics if t not in CONVERSATIONAL]


def test_every_topic_answer_has_a_source(topics):
    missing = [t for t in topic_answers(topics) if not sources().get(t)]
    assert not missing


def test_no_source_is_older_than_12_months_or_in_the_future(topics):
    today = date.today()
    for topic in topic_answers(topics):
        for source in sources()[topic]:
            assert source.checked <= today, f"{topic}: {source.title} checked in the future"
            assert today - source.checked <= timedelta(days=MAX_AGE_DAYS), f"{topic}: {source.title} is stale"


def test_a_document_names_its_number_or_its_page():
    for topic, items in sources().items():
        for source in items:
            assert source.title.strip(), topic
            if source.kind != PLACE:
                assert source.reference or (source.url or "").startswith(("https://", "http://")), topic


def test_an_old_or_missing_check_is_caught(tmp_path):
    stale = date.today() - timedelta(days=MAX_AGE_DAYS + 1)
    path = tmp_path / "sources.yml"
    path.write_text(f"topics:\n  ask_vneid:\n    - {{title: x, url: 'https://a.vn', checked: {stale.isoformat()}}}\n",
                    encoding="utf-8")
    (source,) = read_sources(path)["ask_vneid"]
    assert date.today() - source.checked > timedelta(days=MAX_AGE_DAYS)
    path.write_text("topics:\n  ask_vneid:\n    - {title: x, url: 'https://a.vn'}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="checked"):
        read_sources(path)


def test_the_library_shows_the_date_of_each_topic_answer(topics):
    library = catalogue()
    for topic in topic_answers(topics):
        entry = library.get(topic)
        assert entry is not None and entry.kind == TOPIC
        assert entry.updated == max(s.checked for s in sources()[topic])
