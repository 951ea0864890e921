"""The messenger output channels running in this process, by channel name.

The hand-off relay reaches a resident on whichever messenger they use: a team
member's reply arrives on the Telegram webhook but may be for a Zalo resident.
Each messenger input channel registers its output here when Rasa creates it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional

if TYPE_CHECKING:  # Rasa is only imported by the Rasa server itself
    from rasa.core.channels.channel import OutputChannel


_outputs: Dict[str, "OutputChannel"] = {}


def register(output: "OutputChannel") -> None:
    _outputs[output.name()] = output


def output_for(channel: str) -> Optional["OutputChannel"]:
    return _outputs.get(channel)
