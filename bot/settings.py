"""The App's configuration, read from the environment in this one place.

| variable | meaning |
|---|---|
| ``GITHUB_APP_ID`` | the App's numeric id (App settings page) |
| ``GITHUB_PRIVATE_KEY`` | the App's private key, PEM text (``\\n`` escapes are accepted) |
| ``GITHUB_PRIVATE_KEY_PATH`` | or: a file holding it |
| ``GITHUB_WEBHOOK_SECRET`` | the webhook secret (at least 16 characters). Without it (and none saved) the web process starts in setup mode (`bot.setup`) when no App id or key is set either, and refuses to start when one is |
| ``GITHUB_API_URL`` | REST root, default ``https://api.github.com`` (GitHub Enterprise Server: ``https://HOST/api/v3``) |
| ``GITHUB_URL`` | GitHub's web address, for the registration page (default ``https://github.com``; GitHub Enterprise Server: ``https://HOST``) |
| ``FOOTGUN_PUBLIC_URL`` | the App's public base URL, for the registration page (default: the address the page was requested at) |
| ``FOOTGUN_DATA_DIR`` | where the job queue, delivery log and blob cache live (default ``./footgun-data``) |
| ``REDIS_URL`` | optional: keep the queue and delivery log in Redis instead (several machines) |
| ``PORT`` | the port ``footgun serve`` and the Procfile's web process listen on (default 8000) |
| ``FOOTGUN_WORKERS`` | worker threads of the job consumer (default 2) |
| ``FOOTGUN_MAX_BODY_BYTES`` | the largest webhook body accepted (default 25 MiB, GitHub's own cap) |
| ``FOOTGUN_LOG_FORMAT`` | ``text`` (default: ``key=value`` lines) or ``json`` (one JSON object a line) |
| ``FOOTGUN_LOG_LEVEL`` | ``INFO`` (default), ``DEBUG``, ``WARNING``... |

Jobs and GitHub (the defaults suit github.com; every one is a number):

| variable | default | meaning |
|---|---|---|
| ``FOOTGUN_MAX_ATTEMPTS`` | 6 | tries of one delivery before it gives up and says so on the check run (a worker killed mid-job counts) |
| ``FOOTGUN_RETRY_DELAY`` | 10 | seconds before the second try; doubled for each further one |
| ``FOOTGUN_JOB_LEASE`` | 60 | seconds a running job stays claimed without its worker's heartbeat; a dead worker's job runs again after this |
| ``FOOTGUN_GITHUB_TIMEOUT`` | 20 | seconds before a request to GitHub is abandoned (GitHub itself gives up after 10) |
| ``FOOTGUN_GITHUB_RETRIES`` | 5 | in-place retries of a read that failed with a 5xx, a timeout or a rate limit |
| ``FOOTGUN_GITHUB_BACKOFF`` | 0.5 | backoff factor of those retries (0.5 s, 1 s, 2 s, ...) |
| ``FOOTGUN_WRITE_INTERVAL`` | 1 | seconds between two writes of one installation, across every worker |
| ``FOOTGUN_CONTENT_PER_MINUTE`` | 80 | content-creating requests (reviews, comments, check runs) an installation makes a minute |
| ``FOOTGUN_CONTENT_PER_HOUR`` | 500 | and an hour (GitHub's secondary limits; 0 switches a limit off, e.g. on GitHub Enterprise Server) |
| ``FOOTGUN_RATE_LIMIT_MAX_WAIT`` | 60 | a rate limit asking to wait longer than this puts the job back on the queue instead of holding a worker |
| ``FOOTGUN_WRITE_SETTLE`` | 10 | seconds GitHub may still be working on a write footgun gave up on; it looks for the result after that |

Budgets of one analysis (a pull request over them gets a partial review that says so):

| variable | default | meaning |
|---|---|---|
| ``FOOTGUN_MAX_FILES`` | 10000 | manifests read per analysis: the PR's own first, then the nearest others as context |
| ``FOOTGUN_MAX_BYTES`` | 67108864 | bytes of manifests read per analysis (64 MiB) |
| ``FOOTGUN_ENGINE_SECONDS`` | 120 | wall-clock seconds the rule engine may run per analysis |
| ``FOOTGUN_ENGINE_MEMORY_MB`` | 2048 | memory the rule engine's process may use |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_GITHUB_URL = "https://github.com"
DEFAULT_DATA_DIR = "footgun-data"
DEFAULT_MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB
MIN_SECRET_LENGTH = 16  # shorter is guessable; GitHub asks for a random string of high entropy


class SettingsError(RuntimeError):
    """A missing or invalid setting; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    webhook_secret: str
    app_id: int | None = None
    private_key: str | None = None
    api_url: str = DEFAULT_API_URL
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    redis_url: str | None = None
    port: int = 8000
    workers: int = 2
    max_body_bytes: int = DEFAULT_MAX_BODY
    log_format: str = "text"
    log_level: str = "INFO"
    max_attempts: int = 6
    retry_delay: float = 10.0
    job_lease: float = 60.0
    github_timeout: float = 20.0
    github_retries: int = 5
    github_backoff: float = 0.5
    write_interval: float = 1.0
    content_per_minute: int = 80
    content_per_hour: int = 500
    rate_limit_max_wait: float = 60.0
    write_settle: float = 10.0
    max_files: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    engine_seconds: float = 120.0
    engine_memory_mb: int = 2048
    github_url: str = DEFAULT_GITHUB_URL  # GitHub's web pages (the App's registration flow)
    public_url: str | None = None  # the App's own public address; None: taken from each request

    def __repr__(self) -> str:  # secrets never reach a log line
        return (
            f"Settings(app_id={self.app_id}, api_url={self.api_url!r}, data_dir={str(self.data_dir)!r}, "
            f"redis={'yes' if self.redis_url else 'no'}, port={self.port}, workers={self.workers})"
        )

    def require_app_credentials(self) -> tuple[int, str]:
        """The App id and key, needed by whatever talks to GitHub (the worker)."""
        if self.app_id is None or not self.private_key:
            raise SettingsError(
                "footgun cannot talk to GitHub: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY (the PEM text) "
                "or GITHUB_PRIVATE_KEY_PATH (a file holding it), both from the App's settings page"
            )
        return self.app_id, self.private_key


def load_settings(environ: Mapping[str, str] | None = None, *, webhooks: bool = True) -> Settings:
    """Settings from the environment; `SettingsError` names what is missing or wrong.
    ``webhooks=False``: for the worker, which verifies no webhook and needs no secret."""
    env = os.environ if environ is None else environ
    secret = env.get("GITHUB_WEBHOOK_SECRET", "")
    if not secret and webhooks:
        raise SettingsError(
            "GITHUB_WEBHOOK_SECRET is not set: footgun refuses to accept webhooks it cannot verify. "
            "Set it to the webhook secret of your GitHub App (App settings > Webhook secret)."
        )
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"GITHUB_WEBHOOK_SECRET is {len(secret)} characters: too short to keep forged webhooks out "
            f"(at least {MIN_SECRET_LENGTH}; e.g. `openssl rand -hex 32`, set in the App's settings too)"
        )
    return Settings(
        webhook_secret=secret,
        app_id=_app_id(env.get("GITHUB_APP_ID")),
        private_key=_private_key(env),
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        data_dir=_data_dir(env.get("FOOTGUN_DATA_DIR") or DEFAULT_DATA_DIR),
        redis_url=env.get("REDIS_URL") or None,
        port=_port(env),
        workers=_int(env, "FOOTGUN_WORKERS", 2, 1),
        max_body_bytes=_int(env, "FOOTGUN_MAX_BODY_BYTES", DEFAULT_MAX_BODY, 1024),
        log_format=_choice(env, "FOOTGUN_LOG_FORMAT", "text", ("text", "json")),
        log_level=_choice(env, "FOOTGUN_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
        max_attempts=_int(env, "FOOTGUN_MAX_ATTEMPTS", 6, 1),
        retry_delay=_float(env, "FOOTGUN_RETRY_DELAY", 10.0, 0.0),
        job_lease=_float(env, "FOOTGUN_JOB_LEASE", 60.0, 0.5),
        github_timeout=_float(env, "FOOTGUN_GITHUB_TIMEOUT", 20.0, 0.1),
        github_retries=_int(env, "FOOTGUN_GITHUB_RETRIES", 5, 0),
        github_backoff=_float(env, "FOOTGUN_GITHUB_BACKOFF", 0.5, 0.0),
        write_interval=_float(env, "FOOTGUN_WRITE_INTERVAL", 1.0, 0.0),
        content_per_minute=_int(env, "FOOTGUN_CONTENT_PER_MINUTE", 80, 0),
        content_per_hour=_int(env, "FOOTGUN_CONTENT_PER_HOUR", 500, 0),
        rate_limit_max_wait=_float(env, "FOOTGUN_RATE_LIMIT_MAX_WAIT", 60.0, 0.0),
        write_settle=_float(env, "FOOTGUN_WRITE_SETTLE", 10.0, 0.0),
        max_files=_int(env, "FOOTGUN_MAX_FILES", 10_000, 1),
        max_bytes=_int(env, "FOOTGUN_MAX_BYTES", 64 * 1024 * 1024, 1024),
        engine_seconds=_float(env, "FOOTGUN_ENGINE_SECONDS", 120.0, 0.1),
        engine_memory_mb=_int(env, "FOOTGUN_ENGINE_MEMORY_MB", 2048, 64),
        github_url=(env.get("GITHUB_URL") or DEFAULT_GITHUB_URL).rstrip("/"),
        public_url=(env.get("FOOTGUN_PUBLIC_URL") or "").rstrip("/") or None,
    )


def _app_id(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"GITHUB_APP_ID must be the App's numeric id, got {value!r}") from None


def _private_key(env: Mapping[str, str]) -> str | None:
    text = env.get("GITHUB_PRIVATE_KEY")
    path = env.get("GITHUB_PRIVATE_KEY_PATH")
    if not text and path:
        try:
            text = Path(path).read_text()
        except OSError as exc:
            raise SettingsError(f"GITHUB_PRIVATE_KEY_PATH: cannot read {path}: {exc.strerror or exc}") from None
    if not text:
        return None
    if "\\n" in text and "\n" not in text.strip():
        text = text.replace("\\n", "\n")  # a PEM squeezed into one line of a .env file
    if "PRIVATE KEY" not in text:
        raise SettingsError(
            "GITHUB_PRIVATE_KEY does not look like a PEM private key "
            "(it should start with -----BEGIN RSA PRIVATE KEY-----)"
        )
    try:
        serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise SettingsError(
            f"GITHUB_PRIVATE_KEY does not parse as a PEM private key ({reason[:120]}): "
            f"download a new one from the App's settings page"
        ) from None
    return text


def _port(env: Mapping[str, str]) -> int:
    port = _int(env, "PORT", 8000, 1)
    if port > 65535:
        raise SettingsError(f"PORT must be a port number (1-65535), got {port}")
    return port


def _data_dir(value: str) -> Path:
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise SettingsError(
            f"FOOTGUN_DATA_DIR {value} is a file, not a directory: point it at a directory (created if missing)"
        )
    return path


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    value = env.get(name)
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {value!r}") from None
    if number < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {number}")
    return number


def _float(env: Mapping[str, str], name: str, default: float, minimum: float) -> float:
    value = env.get(name)
    if not value:
        return default
    try:
        number = float(value)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {value!r}") from None
    if not number >= minimum:  # also refuses nan
        raise SettingsError(f"{name} must be at least {minimum:g}, got {value}")
    return number


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip()
    for choice in choices:
        if value.lower() == choice.lower():
            return choice
    raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
