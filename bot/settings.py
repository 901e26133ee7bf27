"""The App's configuration, read from the environment in this one place.

| variable | meaning |
|---|---|
| ``GITHUB_APP_ID`` | the App's numeric id (App settings page) |
| ``GITHUB_PRIVATE_KEY`` | the App's private key, PEM text (``\\n`` escapes are accepted) |
| ``GITHUB_PRIVATE_KEY_PATH`` | or: a file holding it |
| ``GITHUB_WEBHOOK_SECRET`` | the webhook secret; the server refuses to start without it |
| ``GITHUB_API_URL`` | REST root, default ``https://api.github.com`` (GitHub Enterprise Server: ``https://HOST/api/v3``) |
| ``FOOTGUN_DATA_DIR`` | where the job queue, delivery log and blob cache live (default ``./footgun-data``) |
| ``REDIS_URL`` | optional: keep the queue and delivery log in Redis instead (several machines) |
| ``PORT`` | the port ``footgun serve`` and the Procfile's web process listen on (default 8000) |
| ``FOOTGUN_WORKERS`` | worker threads of the job consumer (default 2) |
| ``FOOTGUN_MAX_BODY_BYTES`` | the largest webhook body accepted (default 25 MiB, GitHub's own cap) |
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DATA_DIR = "footgun-data"
DEFAULT_MAX_BODY = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


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

    def __repr__(self) -> str:  # secrets never reach a log line
        return (f"Settings(app_id={self.app_id}, api_url={self.api_url!r}, data_dir={str(self.data_dir)!r}, "
                f"redis={'yes' if self.redis_url else 'no'}, port={self.port}, workers={self.workers})")

    def require_app_credentials(self) -> tuple[int, str]:
        """The App id and key, needed by whatever talks to GitHub (the worker)."""
        if self.app_id is None or not self.private_key:
            raise SettingsError(
                "footgun cannot talk to GitHub: set GITHUB_APP_ID and GITHUB_PRIVATE_KEY (the PEM text) "
                "or GITHUB_PRIVATE_KEY_PATH (a file holding it), both from the App's settings page")
        return self.app_id, self.private_key


def load_settings(environ: Mapping[str, str] | None = None, *, webhooks: bool = True) -> Settings:
    """Settings from the environment; `SettingsError` names what is missing or wrong.
    ``webhooks=False``: for the worker, which verifies no webhook and needs no secret."""
    env = os.environ if environ is None else environ
    secret = env.get("GITHUB_WEBHOOK_SECRET", "")
    if not secret and webhooks:
        raise SettingsError(
            "GITHUB_WEBHOOK_SECRET is not set: footgun refuses to accept webhooks it cannot verify. "
            "Set it to the webhook secret of your GitHub App (App settings > Webhook secret).")
    return Settings(
        webhook_secret=secret,
        app_id=_app_id(env.get("GITHUB_APP_ID")),
        private_key=_private_key(env),
        api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
        data_dir=Path(env.get("FOOTGUN_DATA_DIR") or DEFAULT_DATA_DIR),
        redis_url=env.get("REDIS_URL") or None,
        port=_int(env, "PORT", 8000, 1),
        workers=_int(env, "FOOTGUN_WORKERS", 2, 1),
        max_body_bytes=_int(env, "FOOTGUN_MAX_BODY_BYTES", DEFAULT_MAX_BODY, 1024),
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
        raise SettingsError("GITHUB_PRIVATE_KEY does not look like a PEM private key "
                            "(it should start with -----BEGIN RSA PRIVATE KEY-----)")
    return text


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
