"""Several Rasa servers behind HAProxy on one machine (RASA_INSTANCES=N).

`python -m bot serve` starts N `rasa run` on the ports after RASA_PORT
(RASA_PORT+1 ... RASA_PORT+N) and HAProxy (Debian's package, installed by
scripts/haproxy.sh) on RASA_PORT, so the outside keeps the contract's port
and paths. The servers share conversations in Redis and publish the question
log to RabbitMQ, so both variables are required when N > 1.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import List, Mapping, Optional

from bot.settings import PROJECT_ROOT

TEMPLATE = PROJECT_ROOT / "deploy" / "haproxy.cfg.template"
HAPROXY_CANDIDATES = ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy")


def instances(env: Mapping[str, str]) -> int:
    raw = env.get("RASA_INSTANCES", "").strip()
    try:
        count = int(raw) if raw else 1
    except ValueError:
        raise ValueError(f"RASA_INSTANCES must be a whole number, got {raw!r}") from None
    if count < 1:
        raise ValueError(f"RASA_INSTANCES must be at least 1, got {count}")
    if count > 1:
        missing = [name for name in ("REDIS_URL", "RABBITMQ_URL") if not env.get(name, "").strip()]
        if missing:
            raise ValueError(f"RASA_INSTANCES={count} needs {' and '.join(missing)} (the servers share them)")
    return count


def instance_ports(front_port: int, count: int) -> List[int]:
    return [front_port + n for n in range(1, count + 1)]


def haproxy_binary() -> Optional[str]:
    found = shutil.which("haproxy")
    if found:
        return found
    return next((path for path in HAPROXY_CANDIDATES if os.access(path, os.X_OK)), None)


def render_haproxy(host: str, front_port: int, ports: List[int], template: Path = TEMPLATE) -> Path:
    servers = "\n".join(f"    server rasa{n} 127.0.0.1:{port} check" for n, port in enumerate(ports, 1))
    text = template.read_text(encoding="utf-8").replace("{front}", f"{host}:{front_port}").replace("{servers}", servers)
    target = PROJECT_ROOT / "var" / "run" / f"haproxy-{front_port}.cfg"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
