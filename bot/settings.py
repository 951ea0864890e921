"""Configuration from the environment (a `.env` file may supply it).

A variable set in the process environment always wins over `.env`
(see ../shared/spec/contract.md). Every default works on a fresh machine.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from dotenv import load_dotenv

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"
MODELS_DIR = PROJECT_ROOT / "models"


def load_env_file(path: Optional[Path] = None) -> None:
    """Read `.env` into os.environ without overriding what is already set."""
    load_dotenv(path or PROJECT_ROOT / ".env", override=False)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        port = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a port number, got {raw!r}") from None
    if not 0 < port < 65536:
        raise ValueError(f"{name} must be between 1 and 65535, got {port}")
    return port


@dataclass(frozen=True)
class Settings:
    """Ports and addresses of the three processes."""

    host: str
    rasa_port: int
    actions_port: int
    web_port: int
    rasa_url: str
    nlu_port: int = 5006

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        rasa_port = _port(env, "RASA_PORT", 5005)
        return cls(
            host=env.get("BIND_HOST", "127.0.0.1"),
            rasa_port=rasa_port,
            actions_port=_port(env, "ACTIONS_PORT", 5055),
            web_port=_port(env, "WEB_PORT", 8080),
            rasa_url=env.get("RASA_URL", f"http://127.0.0.1:{rasa_port}").rstrip("/"),
            nlu_port=_port(env, "NLU_PORT", 5006),
        )
