"""Logging: one line per event, each tagged with the delivery it belongs to.

The web process sets `delivery` while it handles a webhook and the job runner for the
duration of a job, so every line logged meanwhile, from any module, carries
``delivery=<X-GitHub-Delivery>``. A record is always one line: line breaks in
messages are escaped and a traceback is folded into an ``exc="..."`` field.

Two formats (``FOOTGUN_LOG_FORMAT``):

* ``text``: ``2024-06-01T12:00:00Z INFO footgun.jobs delivery=abc message``
* ``json``: ``{"ts": ..., "level": ..., "logger": ..., "delivery": ..., "msg": ..., "exc": ...}``

Secrets never reach a log line: settings print without them, PyGithub masks the
``Authorization`` header, and, as a last line of defence, every line is scrubbed of
anything shaped like a GitHub token (``ghs_...``), a JWT, a PEM private key, the value
of a ``token=`` (and the like) in a URL's query, or one of the secrets registered with
`register_secret` (the webhook secret, the App's key).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from typing import TextIO

delivery: contextvars.ContextVar[str] = contextvars.ContextVar("delivery", default="-")

_HANDLER_NAME = "footgun"
_TOKEN = re.compile(r"\b(?:gh[opsuvr]|github_pat)_[A-Za-z0-9_]{16,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+")
# A credential in a URL's query: archive downloads carry one (`token=`), urllib3 logs the URL at DEBUG.
_QUERY_SECRET = re.compile(r"(?i)([?&;](?:token|access_token|client_secret|jwt|code|sig|signature)=)[^&\s\"'#]+")
_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S)
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """A value that must never appear in a log line (at least 6 characters long)."""
    if value and len(value) >= 6:
        with _secrets_lock:
            _secrets.add(value)
            for line in value.splitlines():  # a PEM logged line by line
                if len(line) >= 24:
                    _secrets.add(line)


def redact(text: str) -> str:
    text = _PEM.sub("[private key removed]", text)
    text = _TOKEN.sub("[token removed]", text)
    text = _QUERY_SECRET.sub(r"\1[removed]", text)
    text = _JWT.sub("[jwt removed]", text)
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[secret removed]")
    return text


def _one_line(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")


@contextlib.contextmanager
def for_delivery(delivery_id: str) -> Iterator[None]:
    token = delivery.set(delivery_id)
    try:
        yield
    finally:
        delivery.reset(token)


class OneLineFormatter(logging.Formatter):
    """``time level logger delivery=<id> message [exc="..."]`` on one line, redacted."""

    def __init__(self, json_lines: bool = False) -> None:
        super().__init__()
        self.json_lines = json_lines

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        message = redact(record.getMessage())
        exc = None
        if record.exc_info:
            exc = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            exc = redact(record.exc_text)
        who = getattr(record, "delivery", None) or delivery.get()
        if self.json_lines:
            data = {
                "ts": self.formatTime(record),
                "level": record.levelname,
                "logger": record.name,
                "delivery": who,
                "msg": message,
            }
            if exc:
                data["exc"] = exc
            return json.dumps(data, ensure_ascii=False)
        line = f"{self.formatTime(record)} {record.levelname} {record.name} delivery={who} {_one_line(message)}"
        if exc:
            line += f' exc="{_one_line(exc)}"'
        return line


def configure_logging(
    level: int | str = logging.INFO, fmt: str = "text", stream: TextIO | None = None, force: bool = False
) -> logging.Handler | None:
    """Log to stderr (or ``stream``) one line a record, unless the host configured
    logging already (``force`` replaces footgun's own handler, e.g. in tests)."""
    # PyGithub gives its logger a handler of its own, writing unformatted lines to
    # stderr: its records go through the root's handlers instead (ours: formatted,
    # redacted, one line).
    github = logging.getLogger("github")
    for own in [h for h in github.handlers if type(h) is logging.StreamHandler]:
        github.removeHandler(own)
    github.setLevel(logging.NOTSET)
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == _HANDLER_NAME]
    if force:
        for handler in ours:
            root.removeHandler(handler)
    elif root.handlers:
        return None
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(OneLineFormatter(json_lines=(fmt == "json")))
    root.addHandler(handler)
    root.setLevel(level)
    # huey narrates every task; the job runner logs one line per run instead.
    logging.getLogger("huey").setLevel(max(logging.WARNING, root.level))
    return handler
