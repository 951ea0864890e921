"""`python -m bot serve`: run the Rasa server, the action server and the web app.

All three run as child processes in the foreground. Ctrl-C or SIGTERM stops
them all; if the Rasa server or the web app dies, the others are stopped too
and serve exits non-zero, so a supervisor (systemd, a container) can restart
the set. The action server is restarted on its own (it holds no state); while
it is away the Rasa server answers "try again in a moment" (bot/rasa_server.py).

With RASA_INSTANCES=N (bot/scale/front.py) there are N Rasa servers behind
HAProxy on RASA_PORT; one that dies is restarted on its own, as are HAProxy
and the question-log consumer (started when RABBITMQ_URL is set).
`python -m bot rasa` / `actions` run only those parts (another machine).
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import yaml

from bot.action_server import resolve_token
from bot.channels import channel_enabled
from bot.db.engine import database_url, engine_for
from bot.scale import endpoints as shared_engines
from bot.scale import front
from bot.settings import PROJECT_ROOT, Settings
from bot.training import ensure_model

logger = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 15
READY_TIMEOUT_SECONDS = 300
RESTART_LIMIT = 5  # restarts of one service within RESTART_WINDOW_SECONDS before serve gives up
RESTART_WINDOW_SECONDS = 300
MAX_BODY_BYTES = 1024 * 1024


@dataclass
class Service:
    name: str
    command: List[str]
    ready_url: Optional[str]  # None: running is ready
    process: Optional[subprocess.Popen] = None
    restart: bool = False  # restarted on its own when it dies (instead of stopping everything)


def child_environment(settings: Settings) -> Dict[str, str]:
    """The environment every child gets: ours, plus the resolved ports."""
    env = dict(os.environ)
    env.update(
        RASA_PORT=str(settings.rasa_port),
        ACTIONS_PORT=str(settings.actions_port),
        WEB_PORT=str(settings.web_port),
        RASA_URL=settings.rasa_url,
        PYTHONUNBUFFERED="1",
        # the action server: loopback by default, a shared secret with the Rasa server
        ACTIONS_HOST=env.get("ACTIONS_HOST", "").strip() or "127.0.0.1",
        ACTIONS_TOKEN=resolve_token(env),
        # Sanic (Rasa server) refuses bodies over 1 MB with 413 (its default is 100 MB)
        SANIC_REQUEST_MAX_SIZE=str(MAX_BODY_BYTES),
        NLU_PORT=str(settings.nlu_port),
        # the NLU process and the Rasa server: one secret per run of serve
        NLU_TOKEN=env.get("NLU_TOKEN", "").strip() or secrets.token_urlsafe(32),
    )
    if nlu_process(env):
        env["NLU_URL"] = f"http://127.0.0.1:{settings.nlu_port}"
    else:
        env.pop("NLU_URL", None)
    if telegram_polling(env) and not env.get("TELEGRAM_WEBHOOK_SECRET", "").strip():
        # The poller hands updates to the webhook; both only need to agree.
        env["TELEGRAM_WEBHOOK_SECRET"] = secrets.token_urlsafe(32)
    return env


def nlu_process(env: Mapping[str, str]) -> bool:
    """The model's NLU in a process of its own (bot/nlu_server.py) on the other core.

    On by default for one Rasa server; NLU_PROCESS=off keeps it in the Rasa
    server. With RASA_INSTANCES > 1 each Rasa server parses for itself (they
    already spread over the cores).
    """
    if env.get("NLU_PROCESS", "").strip().lower() in {"0", "false", "no", "off"}:
        return False
    try:
        return front.instances(env) == 1
    except ValueError:  # scale_out says what is wrong with RASA_INSTANCES
        return False


def telegram_polling(env: Mapping[str, str]) -> bool:
    """TELEGRAM_POLLING=true: fetch updates (no public address) instead of a webhook."""
    return bool(env.get("TELEGRAM_BOT_TOKEN", "").strip()) and env.get(
        "TELEGRAM_POLLING", ""
    ).strip().lower() in {"1", "true", "yes", "on"}


def render_credentials(env: Mapping[str, str], source: Path = PROJECT_ROOT / "credentials.yml") -> Path:
    """credentials.yml with only the channels whose variables are set."""
    channels = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    enabled = {key: value for key, value in channels.items() if channel_enabled(key, env)}
    for key in channels:
        logger.info("Channel %s: %s", key, "on" if key in enabled else "off (its variables are not set)")
    # one file per deployment (RASA_PORT): two deployments of one checkout must not share it
    target = PROJECT_ROOT / "var" / "run" / f"credentials-{env.get('RASA_PORT', '5005')}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(enabled, allow_unicode=True), encoding="utf-8")
    return target


def render_endpoints(settings: Settings, source: Path = PROJECT_ROOT / "endpoints.yml") -> Path:
    """endpoints.yml with ${VARIABLES} filled from the environment and our ports.

    Rasa reads endpoints.yml literally, so the file it gets is written to var/run/.
    """
    env = child_environment(settings)
    text = source.read_text(encoding="utf-8")
    for name, value in env.items():
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        missing = text[text.index("${"):].split("}", 1)[0] + "}"
        raise ValueError(f"endpoints.yml uses {missing}, which is not set")
    text = shared_engines.render(text, env)
    target = PROJECT_ROOT / "var" / "run" / f"endpoints-{settings.rasa_port}.yml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)  # it holds ACTIONS_TOKEN
    os.chmod(target, 0o600)
    target.write_text(text, encoding="utf-8")
    return target


def services(settings: Settings, model: Path, env: Mapping[str, str]) -> List[Service]:
    """The three processes of the assistant, the NLU process of the Rasa server
    (nlu_process), and the Telegram poller if asked for."""
    python = sys.executable
    local = "127.0.0.1"
    found = []
    if nlu_process(env):
        # started before the Rasa server, which parses in process until it answers
        found.append(Service(
            "nlu",
            [python, "-m", "bot.nlu_server", "--model", str(model), "--port", str(settings.nlu_port)],
            f"http://{local}:{settings.nlu_port}/health",
            restart=True,
        ))
    found += [
        Service(
            "actions",
            [python, "-m", "bot.action_server"],
            f"http://{local}:{settings.actions_port}/health",
            restart=True,  # stateless; meanwhile residents are asked to try again
        ),
        Service(
            "rasa",
            [
                python, "-m", "bot.rasa_server", "run",
                "--model", str(model),
                "--interface", settings.host,
                "--port", str(settings.rasa_port),
                "--credentials", str(render_credentials(env)),
                "--endpoints", str(render_endpoints(settings)),
            ],
            f"http://{local}:{settings.rasa_port}/",
        ),
        Service(
            "web",
            [python, "-m", "bot", "web"],
            f"http://{local}:{settings.web_port}/health",
        ),
    ]
    if telegram_polling(env):
        found.append(Service("telegram-polling", [python, "-m", "bot", "telegram-polling"], None))
    return scale_out(found, settings, env)


def scale_out(found: List[Service], settings: Settings, env: Mapping[str, str]) -> List[Service]:
    """RASA_INSTANCES Rasa servers behind HAProxy, and the consumer with RABBITMQ_URL."""
    count = front.instances(env)
    if count > 1:
        rasa = next(s for s in found if s.name == "rasa")
        at = found.index(rasa)
        port_index = rasa.command.index("--port") + 1
        haproxy = front.haproxy_binary()
        if haproxy is None:
            raise RuntimeError("RASA_INSTANCES > 1 needs HAProxy: run scripts/haproxy.sh (Debian's package)")
        replicas = []
        for n, port in enumerate(front.instance_ports(settings.rasa_port, count), 1):
            command = list(rasa.command)
            command[port_index] = str(port)
            command[command.index("--interface") + 1] = "127.0.0.1"
            replicas.append(Service(f"rasa{n}", command, f"http://127.0.0.1:{port}/", restart=True))
        config = front.render_haproxy(settings.host, settings.rasa_port, front.instance_ports(settings.rasa_port, count))
        replicas.append(Service("haproxy", [haproxy, "-db", "-f", str(config)], rasa.ready_url, restart=True))
        found = found[:at] + replicas + found[at + 1:]
    if shared_engines.rabbitmq_url(env):
        found.append(Service("questionlog-consumer", [sys.executable, "-m", "bot", "questionlog-consumer"], None,
                             restart=True))
    return found


def _is_ready(url: Optional[str]) -> bool:
    if url is None:
        return True
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


class Supervisor:
    """Starts the services, waits for them, and stops them together."""

    def __init__(self, services: List[Service], env: Dict[str, str]) -> None:
        self.services = services
        self.env = env
        self._stopping = False
        self._restarts: Dict[str, List[float]] = {}

    def start(self) -> None:
        for service in self.services:
            self._launch(service)

    def _launch(self, service: Service) -> None:
        logger.info("Starting %s: %s", service.name, " ".join(service.command))
        service.process = subprocess.Popen(
            service.command, cwd=PROJECT_ROOT, env=self.env, start_new_session=True
        )

    def restart_dead(self) -> Optional[Service]:
        """Restart the dead services that may be restarted; one that may not (or too often), if any."""
        now = time.monotonic()
        for service in self.services:
            if service.process is None or service.process.poll() is None:
                continue
            recent = [t for t in self._restarts.get(service.name, []) if now - t < RESTART_WINDOW_SECONDS]
            if not service.restart or len(recent) >= RESTART_LIMIT:
                return service
            logger.warning("%s exited with code %s; restarting it", service.name, service.process.returncode)
            _signal_group(service.process, signal.SIGKILL)  # its children, if any are left
            self._restarts[service.name] = recent + [now]
            self._launch(service)
        return None

    def dead(self) -> Optional[Service]:
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                return service
        return None

    def wait_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        while pending and time.monotonic() < deadline and not self._stopping:
            if self.dead() is not None:
                return False
            pending = [s for s in pending if not _is_ready(s.ready_url)]
            if pending:
                time.sleep(1)
        return not pending

    def stop(self) -> None:
        self._stopping = True
        running = [s for s in self.services if s.process and s.process.poll() is None]
        for service in running:
            logger.info("Stopping %s", service.name)
            _signal_group(service.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for service in running:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                service.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop in time; killing it", service.name)
                _signal_group(service.process, signal.SIGKILL)
                service.process.wait()


def _part_of(name: str) -> str:
    """Which part of the assistant a service belongs to."""
    if name.startswith("rasa") or name in ("haproxy", "telegram-polling"):
        return "rasa"
    return name if name in ALL_PARTS else "rasa"


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass


ALL_PARTS = ("rasa", "actions", "web")


def serve(settings: Optional[Settings] = None, parts: Sequence[str] = ALL_PARTS) -> int:
    """Run until interrupted; returns the exit code. `parts`: which of rasa, actions, web."""
    settings = settings or Settings.from_env()
    model = ensure_model() if "rasa" in parts else Path("-")
    engine_for(database_url())  # schema upgraded (Alembic) once, before the processes share it
    env = child_environment(settings)
    chosen = [s for s in services(settings, model, env) if _part_of(s.name) in parts]
    if tuple(parts) != ALL_PARTS:
        chosen = [s for s in chosen if s.name != "questionlog-consumer"]
    supervisor = Supervisor(chosen, env)

    def _on_signal(signum, _frame):  # noqa: ANN001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        supervisor.start()
        if supervisor.wait_ready():
            logger.info(
                "Ready. Web chat: http://127.0.0.1:%s/  Rasa: http://127.0.0.1:%s/",
                settings.web_port, settings.rasa_port,
            )
            print(f"READY web=http://127.0.0.1:{settings.web_port}/", flush=True)
        while True:
            failed = supervisor.restart_dead()
            if failed is not None:
                logger.error("%s exited with code %s; stopping", failed.name, failed.process.returncode)
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        logger.info("Shutting down")
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        supervisor.stop()
