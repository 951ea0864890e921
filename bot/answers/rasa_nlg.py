"""Rasa's NLG hook: the published answers, in process, and the resident's form of address.

endpoints.yml::

    nlg:
      type: bot.answers.rasa_nlg.PublishedAnswersNLG

Rasa's own templated generator does the work (random variation, conditions
on slots, channel-specific variations, slot filling in text and buttons); this
class only swaps its responses for the published ones when the revision
changes (bot/answers/live.py: a dictionary hand-over, polled at most every
2 s) and says "anh/chị" in the resident's own form (slot ``address_form``,
bot/answers/addressing.py). Only the Rasa server imports this module.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.answers import addressing
from bot.answers.live import LiveAnswers, POLL_SECONDS, default


class PublishedAnswersNLG(TemplatedNaturalLanguageGenerator):
    """Templated NLG over the published answers (domain responses until the database answers)."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        domain: Optional[Domain] = None,
        live: Optional[LiveAnswers] = None,
    ) -> None:
        domain_responses = dict(domain.responses) if domain else {}
        super().__init__(domain_responses)
        self._domain_responses = domain_responses
        poll = float((endpoint_config.kwargs.get("poll_seconds") if endpoint_config else None) or POLL_SECONDS)
        self._live = live or (default() if poll == POLL_SECONDS else LiveAnswers(poll_seconds=poll))
        self._merged: Optional[Dict[Text, List[Dict[Text, Any]]]] = None
        self._revision: Optional[int] = None
        # seed/sync and read the answers now, at start, not during a resident's first message
        self._refresh()

    def _refresh(self) -> None:
        if self.responses is not self._merged:
            # the agent loaded a model and set the domain's responses: they are the base now
            self._domain_responses = self.responses
            self._revision = None
        snapshot = self._live.snapshot()
        if snapshot.revision != self._revision:
            self._merged = {**self._domain_responses, **snapshot.responses()}
            self.responses = self._merged
            self._revision = snapshot.revision

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        self._refresh()
        filled_slots = tracker.current_slot_values()
        message = self.generate_from_slots(utter_action, filled_slots, output_channel, **kwargs)
        form = filled_slots.get(addressing.SLOT)
        if message and form and isinstance(message.get("text"), str):
            message["text"] = addressing.rewrite(message["text"], form)
        return message
