"""The catalogue of the answer library, generated from the assistant's own sources.

Nothing here is written twice: the entries are read from the files the bot
itself runs on, so the library cannot drift from what residents are told.

- **Topic answers**: every rule of ``nlu_data/rules/answers.yml`` that starts
  with an intent and says a response (``utter_*``), except the not-understood
  rules (``nlu_fallback``: not understood is not an answer). The entry is the
  rule's responses in order, one string per message, as the bot says them.
  Menus (``utter_menu``, ``utter_menu_*``) are navigation, not answers, and
  are left out of the messages. A custom action that speaks inside the answer
  contributes the texts :data:`ACTION_TEXTS` names (what it says when nothing
  is known of the resident); any other custom action marks the entry ``partial``. A response
  with ``condition`` variations contributes its general variation (the one
  without a condition); the conditional ones become search keywords.
- **Journeys**: every journey of ``bot/journeys/journeys.yml`` (loaded and
  validated by :mod:`bot.journeys.engine`), its steps in reading order: a step
  comes after every step that leads to it, branches follow their question, and
  each step says where its choices lead ("Nếu «Tiền điện» → bước 2").
- **Topics** (the groups used for filtering and handouts) come from the main
  menu of ``domain/core.yml``: a menu section button (``/ask_help_menu`` with
  ``menu_section``) is a topic holding the intents of that section's menu; a
  button straight to an answer (``/report_scam``) is a topic of its own. An
  answer on no menu joins the topic of the other intents of its domain file,
  else a topic named after that file (``basics``: greeting, thanks, ...). A
  journey belongs to the topic of the answers that offer it (the
  ``/start_journey{"journey_name": ...}`` buttons).
- **Titles**: the title of a button whose payload is the intent (menus first),
  emoji stripped; a few conversational intents that no button names get a
  title from :data:`FALLBACK_TITLES`; else the first training example.
- **Keywords** (weaker search terms): the intent's NLU training examples.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from datetime import date
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

import yaml

from bot.journeys.engine import DEFINITIONS_PATH, Catalogue as JourneyCatalogue, Journey, Step
from bot.library.sources import last_checked
from bot.nlu.training_examples import read_examples
from bot.settings import PROJECT_ROOT

DOMAIN_DIR = PROJECT_ROOT / "domain"
ANSWER_RULES = PROJECT_ROOT / "nlu_data" / "rules" / "answers.yml"
MENU_RULES = PROJECT_ROOT / "nlu_data" / "rules" / "menu.yml"
NLU_DIR = PROJECT_ROOT / "nlu_data" / "nlu"

TOPIC, JOURNEY = "topic", "journey"
MAIN_MENU = "utter_menu"
MENU_INTENT = "ask_help_menu"
MENU_SECTION = "menu_section"
START_JOURNEY = "start_journey"
FALLBACK_INTENT = "nlu_fallback"
JOURNEY_NAME = "journey_name"

# Topic keys for main-menu buttons that lead straight to an answer (the key is
# the intent name when it is not listed here).
TOPIC_KEYS = {"report_scam": "safety", "ask_community_team": "community"}
# Labels of topics that no menu button names (keyed by domain file stem).
FALLBACK_TOPIC_LABELS = {"basics": "Chào hỏi, trò chuyện chung", "journeys": "Hướng dẫn từng bước"}
OTHER_TOPIC = ("other", "Khác")
# Titles of conversational answers that no button names.
FALLBACK_TITLES = {
    "greet": "Lời chào, giới thiệu trợ lý",
    "goodbye": "Lời chào tạm biệt",
    "thank": "Khi người dân cảm ơn",
    "affirm": "Khi người dân đồng ý",
    "deny": "Khi người dân từ chối",
    "bot_challenge": "Trợ lý là người hay máy?",
    "out_of_scope": "Câu hỏi ngoài phạm vi hỗ trợ",
}

_PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z0-9_]+)(?P<entities>\{.*\})?$", re.DOTALL)
_INVISIBLE = {"\ufe0f", "\u200d", "\u20e3"}


@dataclass(frozen=True, eq=False)
class Entry:
    """One scripted answer: a topic answer (an intent) or a guided journey."""

    id: str  # stable and URL-safe: the intent name, or "journey-<name>"
    topic: str  # key of the Topic it belongs to
    title: str
    messages: List[str]  # the answer, one string per message as the bot says it
    kind: str  # TOPIC or JOURNEY
    keywords: List[str] = field(default_factory=list)  # extra, weaker search terms
    related: List[str] = field(default_factory=list)  # ids: journeys a topic offers / topics offering a journey
    intent: Optional[str] = None
    journey: Optional[str] = None
    partial: bool = False  # a custom action also speaks in this answer (e.g. a look-up); its words are not here
    updated: Optional[date] = None  # when the sources of its facts were last checked (bot/library/sources.yml)

    @property
    def text(self) -> str:
        """The whole answer as plain text (what a volunteer copies)."""
        return "\n\n".join(self.messages)


@dataclass(frozen=True)
class Topic:
    """A group of entries: filter of the library, one printable handout."""

    key: str
    label: str


@dataclass(frozen=True, eq=False)
class AnswerCatalogue:
    entries: Tuple[Entry, ...]
    topics: Tuple[Topic, ...]

    def get(self, entry_id: str) -> Optional[Entry]:
        return next((e for e in self.entries if e.id == entry_id), None)

    def topic(self, key: Optional[str]) -> Optional[Topic]:
        return next((t for t in self.topics if t.key == key), None)

    def in_topic(self, key: Optional[str]) -> List[Entry]:
        """Entries of topic ``key`` (every entry for None), in catalogue order."""
        return [e for e in self.entries if key is None or e.topic == key]

    def topic_label(self, key: str) -> str:
        topic = self.topic(key)
        return topic.label if topic else key


# -- small readers -------------------------------------------------------------
def strip_emoji(text: str) -> str:
    """'🏛️ Dịch vụ công, VNeID' -> 'Dịch vụ công, VNeID'."""
    kept = "".join(
        ch for ch in unicodedata.normalize("NFC", text)
        if ch not in _INVISIBLE and unicodedata.category(ch) not in ("So", "Cs", "Co")
    )
    return " ".join(kept.split())


def parse_payload(payload: str) -> Tuple[Optional[str], Dict[str, Any]]:
    """'/ask_help_menu{"menu_section":"bank"}' -> ('ask_help_menu', {'menu_section': 'bank'})."""
    match = _PAYLOAD.match((payload or "").strip())
    if not match:
        return None, {}
    entities: Dict[str, Any] = {}
    if match.group("entities"):
        try:
            loaded = json.loads(match.group("entities"))
            entities = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            entities = {}
    return match.group("intent"), entities


def _yaml(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def load_responses(domain_dir: Path) -> Tuple[Dict[str, List[Dict[str, Any]]], Dict[str, str]]:
    """All responses of the domain files, and the file stem that declares each intent."""
    responses: Dict[str, List[Dict[str, Any]]] = {}
    intent_files: Dict[str, str] = {}
    for path in sorted(Path(domain_dir).glob("*.yml")):
        data = _yaml(path)
        for name, variations in (data.get("responses") or {}).items():
            responses[name] = list(variations or [])
        for intent in data.get("intents") or []:
            name = next(iter(intent)) if isinstance(intent, dict) else str(intent)
            intent_files[name] = path.stem
    return responses, intent_files


def general_variation(variations: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The variation without a condition or channel (the general answer), else the first."""
    texts = [v for v in variations if isinstance(v, dict) and v.get("text")]
    general = [v for v in texts if not v.get("condition") and not v.get("channel")]
    return (general or texts or [None])[0]


# Custom actions that speak inside an answer, and what of theirs the library
# shows: (their text file, the keys said when nothing is known of the resident).
ACTION_TEXTS: Dict[str, Tuple[Path, Tuple[str, ...]]] = {
    "action_community_team": (PROJECT_ROOT / "bot" / "community_team.yml", ("intro", "ask_locally")),
}


def action_messages(action: str) -> List[str]:
    path, keys = ACTION_TEXTS[action]
    texts = _yaml(path)
    return [" ".join(str(texts[key]).split()) for key in keys]


def is_navigation(response: str) -> bool:
    return response == MAIN_MENU or response.startswith(MAIN_MENU + "_")


def answer_rules(rules_path: Path) -> Dict[str, Tuple[List[str], bool]]:
    """{intent: (its answer's responses in order, whether a custom action also speaks in it)}.

    Every rule that starts with an intent and says at least one response,
    except the not-understood rules (Rasa's ``nlu_fallback``). A custom action
    before the last response (e.g. one that looks up the resident's commune)
    makes the entry partial: what it says depends on the conversation and is
    not in the library. Actions after the last response (``action_offer_resume``)
    only navigate.
    """
    found: Dict[str, Tuple[List[str], bool]] = {}
    for rule in _yaml(rules_path).get("rules") or []:
        steps = rule.get("steps") or []
        if not steps or "intent" not in steps[0] or steps[0]["intent"] == FALLBACK_INTENT:
            continue
        actions = [step["action"] for step in steps[1:] if "action" in step]
        said = [i for i, a in enumerate(actions) if a.startswith("utter_") or a in ACTION_TEXTS]
        responses = [actions[i] for i in said if not is_navigation(actions[i])]
        if not responses:
            continue
        partial = any(not a.startswith("utter_") and a not in ACTION_TEXTS for a in actions[: said[-1]])
        found.setdefault(steps[0]["intent"], (responses, partial))
    return found


def menu_sections(menu_rules_path: Path) -> Dict[str, str]:
    """{menu_section value: the response that shows it}, from the menu rules."""
    sections: Dict[str, str] = {}
    path = Path(menu_rules_path)
    if not path.exists():
        return sections
    for rule in _yaml(path).get("rules") or []:
        value, action = None, None
        for step in rule.get("steps") or []:
            for slot in step.get("slot_was_set") or []:
                if isinstance(slot, dict) and MENU_SECTION in slot:
                    value = str(slot[MENU_SECTION])
            if "action" in step and step["action"].startswith("utter_"):
                action = step["action"]
        if value and action:
            sections[value] = action
    return sections


def nlu_examples(nlu_dir: Path) -> Dict[str, List[str]]:
    """{intent: training examples, entity annotations removed}."""
    examples: Dict[str, List[str]] = {}
    for path in sorted(Path(nlu_dir).rglob("*.yml")):
        for text, intent in read_examples(path):
            examples.setdefault(intent, []).append(text)
    return examples


def buttons_of(variations: Iterable[Dict[str, Any]]) -> List[Tuple[str, str, Dict[str, Any]]]:
    """[(title, intent, entities)] of every button of a response's variations."""
    found = []
    for variation in variations:
        for button in (variation or {}).get("buttons") or []:
            intent, entities = parse_payload(str(button.get("payload", "")))
            if intent:
                found.append((strip_emoji(str(button.get("title", ""))), intent, entities))
    return found


# -- journeys in reading order -------------------------------------------------
def reading_order(journey: Journey) -> List[str]:
    """Step ids so that a step comes after every step leading to it, and a
    question's branches follow it in the order of its choices."""
    successors = {sid: [t for t in ([c.next for c in s.choices] or [s.next]) if t] for sid, s in journey.steps.items()}
    waiting = Counter(t for targets in successors.values() for t in targets)
    order: List[str] = []
    stack = [journey.first]
    while stack:
        step_id = stack.pop()
        order.append(step_id)
        ready = []
        for target in dict.fromkeys(successors[step_id]):  # a target may be named by two choices
            waiting[target] -= successors[step_id].count(target)
            if waiting[target] == 0:
                ready.append(target)
        stack.extend(reversed(ready))  # first choice read first
    return order


def journey_messages(journey: Journey, journeys: JourneyCatalogue) -> List[str]:
    """One message per step: 'Bước i. text', then where each choice leads."""
    order = reading_order(journey)
    number = {step_id: i for i, step_id in enumerate(order, start=1)}
    messages = []
    for i, step_id in enumerate(order, start=1):
        step = journey.step(step_id)
        lines = [f"Bước {i}. {' '.join(step.text.split())}"]
        if step.choices:
            lines += _branch_lines(step, number)
        elif step.next is not None and number[step.next] != i + 1:
            lines.append(f"→ Tiếp theo: bước {number[step.next]}")
        elif step.next is None:
            other = journeys.get(step.offer_journey) if step.offer_journey else None
            ending = "→ Hết hướng dẫn."
            if other is not None:
                ending += f" Làm tiếp: «{other.title}»."
            if i != len(order) or other is not None:
                lines.append(ending)
        messages.append("\n".join(lines))
    return messages


def _branch_lines(step: Step, number: Dict[str, int]) -> List[str]:
    """'Nếu «Có rồi» → bước 2', one line per target step (choices sharing a target share a line)."""
    targets: Dict[str, List[str]] = {}
    for choice in step.choices:
        if choice.next:
            targets.setdefault(choice.next, []).append(f"«{choice.title}»")
    lines = []
    for target, titles in targets.items():
        named = titles[0] if len(titles) == 1 else ", ".join(titles[:-1]) + " hoặc " + titles[-1]
        lines.append(f"Nếu {named} → bước {number[target]}")
    return lines


# -- the catalogue -------------------------------------------------------------
def build_catalogue(
    domain_dir: Path = DOMAIN_DIR,
    rules_path: Path = ANSWER_RULES,
    menu_rules_path: Path = MENU_RULES,
    nlu_dir: Path = NLU_DIR,
    journeys_path: Path = DEFINITIONS_PATH,
    published_responses: Optional[Dict[str, List[Dict[str, Any]]]] = None,
    published_journeys: Optional[Callable[[JourneyCatalogue], JourneyCatalogue]] = None,
    published_dates: Optional[Dict[str, date]] = None,
) -> AnswerCatalogue:
    """The catalogue of the files, or of the answers published in the admin (bot/answers/published.py):
    their responses, a function giving the journeys their step texts, the sources' check dates."""
    responses, intent_files = load_responses(domain_dir)
    if published_responses is not None:
        responses.update({name: v for name, v in published_responses.items() if name in responses})
    read = answer_rules(rules_path)
    rules = {
        intent: [r for r in names if r in ACTION_TEXTS or (r in responses and general_variation(responses[r]))]
        for intent, (names, _) in read.items()
    }
    rules = {intent: names for intent, names in rules.items() if names}
    examples = nlu_examples(nlu_dir)
    journeys = JourneyCatalogue.from_file(journeys_path)
    if published_journeys is not None:
        journeys = published_journeys(journeys)
    updated: Callable[[str], Optional[date]] = last_checked if published_dates is None else published_dates.get

    # Topics and the intents in each, from the main menu.
    topics: Dict[str, str] = {}
    members: Dict[str, str] = {}  # intent -> topic key
    menu_order: Dict[str, int] = {}
    titles: Dict[str, str] = {}
    sections = menu_sections(menu_rules_path)
    journeys_label = FALLBACK_TOPIC_LABELS["journeys"]
    for title, intent, entities in buttons_of(responses.get(MAIN_MENU, [])):
        if intent == MENU_INTENT and entities.get(MENU_SECTION):
            section = str(entities[MENU_SECTION])
            topics.setdefault(section, title or section)
            section_response = sections.get(section, f"{MAIN_MENU}_{section}")
            for item_title, item, _ in buttons_of(responses.get(section_response, [])):
                if item in rules and item not in members:
                    members[item] = section
                    menu_order.setdefault(item, len(menu_order))
                    titles.setdefault(item, item_title)
        elif intent == START_JOURNEY:
            journeys_label = title or journeys_label
        elif intent in rules and intent not in members:
            key = TOPIC_KEYS.get(intent, intent)
            topics.setdefault(key, title or key)
            members[intent] = key
            menu_order.setdefault(intent, len(menu_order))
            titles.setdefault(intent, title)

    # Answers on no menu: the topic of their domain file's other intents, else the file's own.
    for intent in rules:
        if intent in members:
            continue
        stem = intent_files.get(intent, OTHER_TOPIC[0])
        siblings = Counter(members[i] for i, f in intent_files.items() if f == stem and i in members)
        if siblings:
            members[intent] = siblings.most_common(1)[0][0]
        else:
            members[intent] = stem
            topics.setdefault(stem, FALLBACK_TOPIC_LABELS.get(stem, OTHER_TOPIC[1]))

    # Titles from any other button naming the intent.
    for name, variations in responses.items():
        for title, intent, entities in buttons_of(variations):
            if intent in rules and title and not entities:
                titles.setdefault(intent, title)

    # Which answers offer which journey.
    offered_by: Dict[str, List[str]] = {}
    response_intent = {r: intent for intent, names in rules.items() for r in names}
    for name, variations in responses.items():
        for _, intent, entities in buttons_of(variations):
            journey_id = entities.get(JOURNEY_NAME)
            if intent == START_JOURNEY and journey_id in journeys.journeys and name in response_intent:
                offering = offered_by.setdefault(str(journey_id), [])
                if response_intent[name] not in offering:
                    offering.append(response_intent[name])

    entries: List[Entry] = []
    for journey_id, journey in journeys.journeys.items():
        offering = offered_by.get(journey_id, [])
        votes = Counter(members[i] for i in offering)
        if votes:
            topic = votes.most_common(1)[0][0]
        else:
            topic = "journeys"
            topics.setdefault(topic, journeys_label)
        keywords = [journey.button] + [c.title for s in journey.steps.values() for c in s.choices]
        entries.append(Entry(
            id=f"journey-{journey_id}", topic=topic, title=journey.title,
            messages=journey_messages(journey, journeys), kind=JOURNEY,
            keywords=keywords, related=list(offering), journey=journey_id,
        ))
    journey_ids = {e.journey: e.id for e in entries}
    rule_order = list(rules)
    for intent in sorted(rules, key=lambda i: (menu_order.get(i, len(menu_order)), rule_order.index(i))):
        names = rules[intent]
        messages = [
            text
            for r in names
            for text in (action_messages(r) if r in ACTION_TEXTS else [" ".join(str(general_variation(responses[r])["text"]).split())])
        ]
        conditional = [
            str(v["text"]) for r in names if r not in ACTION_TEXTS for v in responses[r]
            if isinstance(v, dict) and v.get("text") and v is not general_variation(responses[r])
        ]
        title = titles.get(intent) or FALLBACK_TITLES.get(intent) or _first_sentence(examples.get(intent)) or intent
        entries.append(Entry(
            id=intent, topic=members[intent], title=title, messages=messages, kind=TOPIC,
            keywords=examples.get(intent, []) + conditional,
            related=[journey_ids[j] for j, offering in offered_by.items() if intent in offering],
            intent=intent, partial=read[intent][1], updated=updated(intent),
        ))

    topic_order = list(topics)
    entries.sort(key=lambda e: topic_order.index(e.topic))  # stable: journeys first within a topic
    used = [key for key in topic_order if any(e.topic == key for e in entries)]
    return AnswerCatalogue(tuple(entries), tuple(Topic(key, topics[key]) for key in used))


def _first_sentence(examples: Optional[List[str]]) -> str:
    if not examples:
        return ""
    text = examples[0].strip()
    return text[:1].upper() + text[1:]


@lru_cache(maxsize=1)
def catalogue() -> AnswerCatalogue:
    """The catalogue of the shipped files, built once per process."""
    return build_catalogue()
