"""The App's credentials when they come from the registration page rather than the
environment (`bot.setup`), and the one-time ``state`` values of that flow.

Saved credentials live in ``FOOTGUN_DATA_DIR/github-app.json``, created with mode
0600 (readable by its owner only) and replaced atomically. With ``REDIS_URL`` they are
also kept in Redis, so web and worker processes on other machines find them. Every
process reads them when it needs them and has none yet (`current_settings`), so a
process started before the App was registered needs no restart; environment
variables, when set, win over what was saved, field by field.

A ``state`` is a random value handed to GitHub with the manifest and checked when
GitHub redirects back: it is kept (hashed) in the same places, for one hour, and
consumed atomically (a file's removal, Redis's ``DEL``), so one state lets exactly one
callback exchange its code, whichever process receives it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .logs import register_secret
from .settings import Settings

log = logging.getLogger("footgun.credentials")

FILE_NAME = "github-app.json"
STATE_DIR = "setup-states"
STATE_TTL = 3600.0  # GitHub's code lives one hour: a state needs to live no longer
MAX_STATES = 100  # open registration pages kept at once; the oldest go first
REDIS_KEY = "footgun:github-app"
REDIS_STATE_PREFIX = "footgun:setup-state:"


@dataclass(frozen=True)
class AppCredentials:
    """What GitHub's manifest conversion returns that the App needs."""

    app_id: int
    slug: str
    private_key: str
    webhook_secret: str
    client_id: str = ""
    client_secret: str = ""
    html_url: str = ""
    name: str = ""

    def __repr__(self) -> str:  # secrets never reach a log line
        return f"AppCredentials(app_id={self.app_id}, slug={self.slug!r}, html_url={self.html_url!r})"

    @classmethod
    def from_conversion(cls, answer: dict[str, Any]) -> AppCredentials:
        """From ``POST /app-manifests/{code}/conversions``'s answer."""
        return cls(
            app_id=int(answer["id"]),
            slug=str(answer["slug"]),
            private_key=str(answer["pem"]),
            webhook_secret=str(answer["webhook_secret"]),
            client_id=str(answer.get("client_id") or ""),
            client_secret=str(answer.get("client_secret") or ""),
            html_url=str(answer.get("html_url") or ""),
            name=str(answer.get("name") or ""),
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> AppCredentials:
        data = json.loads(text)
        fields = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in fields})

    def register_secrets(self) -> None:
        for value in (self.private_key, self.webhook_secret, self.client_secret):
            register_secret(value)


def verifies_webhooks(settings: Settings) -> bool:
    """Whether a web process has what it needs: the webhook secret (the App's id and
    key are the workers' business)."""
    return bool(settings.webhook_secret)


def merged(settings: Settings, saved: AppCredentials | None) -> Settings:
    """``settings`` with the saved credentials filling what the environment left unset."""
    if saved is None:
        return settings
    return dataclasses.replace(
        settings,
        app_id=settings.app_id if settings.app_id is not None else saved.app_id,
        private_key=settings.private_key or saved.private_key,
        webhook_secret=settings.webhook_secret or saved.webhook_secret,
    )


class CredentialStore:
    """The saved credentials and the flow's states, under ``settings.data_dir`` (and in
    Redis when ``settings.redis_url`` is set)."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir.resolve() / FILE_NAME
        self.state_dir = settings.data_dir / STATE_DIR
        self._redis = None
        if settings.redis_url:
            import redis

            self._redis = redis.Redis.from_url(settings.redis_url)

    # -- credentials ---------------------------------------------------------------------------
    def load(self) -> AppCredentials | None:
        text = None
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if self._redis is not None:
                raw = self._redis.get(REDIS_KEY)
                text = raw.decode() if isinstance(raw, bytes) else raw
        if not text:
            return None
        credentials = AppCredentials.from_json(text)
        credentials.register_secrets()
        return credentials

    def save(self, credentials: AppCredentials) -> None:
        credentials.register_secrets()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(self.path, credentials.to_json())
        if self._redis is not None:
            self._redis.set(REDIS_KEY, credentials.to_json())
        log.info(
            "GitHub App %s (id %d) registered; credentials saved to %s%s",
            credentials.slug,
            credentials.app_id,
            self.path,
            " and Redis" if self._redis is not None else "",
        )

    # -- the registration flow's states ---------------------------------------------------------
    def new_state(self) -> str:
        state = secrets.token_urlsafe(24)
        key = _state_key(state)
        if self._redis is not None:
            self._redis.set(REDIS_STATE_PREFIX + key, b"1", ex=int(STATE_TTL))
            return state
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._prune_states()
        _write_private(self.state_dir / key, "")
        return state

    def consume_state(self, state: str) -> bool:
        """True once for a state this store handed out within the hour; False after."""
        if not state:
            return False
        key = _state_key(state)
        if self._redis is not None:
            return bool(self._redis.delete(REDIS_STATE_PREFIX + key))
        path = self.state_dir / key
        try:
            age = time.time() - path.stat().st_mtime
            path.unlink()  # only one process succeeds
        except FileNotFoundError:
            return False
        return age <= STATE_TTL

    def _prune_states(self) -> None:
        entries = []
        for path in self.state_dir.iterdir():
            try:
                entries.append((path.stat().st_mtime, path))
            except FileNotFoundError:
                continue
        entries.sort()
        now = time.time()
        for n, (mtime, path) in enumerate(entries):
            if now - mtime > STATE_TTL or len(entries) - n >= MAX_STATES:
                path.unlink(missing_ok=True)


def _state_key(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only, replacing it atomically."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)  # in case the file existed with other bits
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


class LiveSettings:
    """The settings a process works with, completed by the saved credentials as soon
    as they exist (checked on each call until then; kept once found)."""

    def __init__(self, settings: Settings, store: CredentialStore | None = None) -> None:
        self.base = settings
        self.store = store or CredentialStore(settings)
        self._lock = threading.Lock()
        self._current = settings if verifies_webhooks(settings) else None

    def current(self) -> Settings | None:
        """Complete settings, or None while the App is not registered."""
        if self._current is not None:
            return self._current
        with self._lock:
            if self._current is None:
                settings = merged(self.base, self.store.load())
                if verifies_webhooks(settings):
                    self._current = settings
            return self._current


def current_settings(settings: Settings) -> Settings:
    """``settings`` completed by the saved credentials, if any (for the worker side,
    which builds its GitHub client on its first job)."""
    if settings.app_id is not None and settings.private_key and settings.webhook_secret:
        return settings
    return merged(settings, CredentialStore(settings).load())
