"""Receiving a webhook delivery: verify, parse, decide, store.

The order matters: the signature is checked over the raw body before anything is
parsed or stored (401 and nothing else when it is missing or wrong, compared in
constant time); only then is the JSON read (400 if malformed, nested deeper than any
GitHub payload, or when a field the handler reads has the wrong type: a payload no try
could act on is never stored). ``X-GitHub-Delivery`` is checked first (at most 72
letters, digits, ``.``, ``_``, ``-``: GitHub sends GUIDs), so nothing else reaches the
store or a log line. ``ping`` is answered 200; an event a handler accepts is stored
durably and answered 202 before any work starts; a redelivery of a stored delivery,
the same body re-sent under another delivery id, and every other event, get 200.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .events import Event, Router, too_deep
from .logs import for_delivery

log = logging.getLogger("footgun.webhook")

SIGNATURE_HEADER = "X-Hub-Signature-256"
DELIVERY_HEADER = "X-GitHub-Delivery"
# GitHub's delivery ids are GUIDs; anything else is refused before it is stored or logged.
DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,71}")
EVENT_NAME = re.compile(r"[a-z_]{1,64}")


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


def signature_of(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def valid_signature(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(signature_of(secret, body).encode(), header.strip().encode())


def receive(
    body: bytes, headers: Any, secret: str, router: Router, app_id: int | None, submit: Callable[[Event], bool]
) -> Answer:
    delivery = headers.get(DELIVERY_HEADER) or ""
    if delivery and not DELIVERY_ID.fullmatch(delivery):
        log.warning("refused: %s is not a delivery id (%d characters)", DELIVERY_HEADER, len(delivery))
        return Answer(400, {"error": f"{DELIVERY_HEADER} must be at most 72 letters, digits, '.', '_' or '-'"})
    with for_delivery(delivery or "-"):
        return _receive(body, headers, secret, router, app_id, submit)


def _receive(
    body: bytes, headers: Any, secret: str, router: Router, app_id: int | None, submit: Callable[[Event], bool]
) -> Answer:
    if not valid_signature(secret, body, headers.get(SIGNATURE_HEADER)):
        log.warning("refused: missing or wrong %s", SIGNATURE_HEADER)
        return Answer(401, {"error": "invalid signature"})
    name = headers.get("X-GitHub-Event")
    if not name:
        return Answer(400, {"error": "missing X-GitHub-Event header"})
    if not EVENT_NAME.fullmatch(name):  # the header is not signed: bounded before it is logged
        return Answer(400, {"error": "X-GitHub-Event is not an event name"})
    try:
        payload = json.loads(body)
        deep = too_deep(payload)
    except (ValueError, UnicodeDecodeError):
        return Answer(400, {"error": "body is not valid JSON"})
    except RecursionError:
        deep = True
    if deep:
        log.warning("refused: a %s payload nested too deeply", name[:40])
        return Answer(400, {"error": "body nests JSON too deeply to be a GitHub webhook"})
    if not isinstance(payload, dict):
        return Answer(400, {"error": "body is not a JSON object"})
    digest = "sha256-" + hashlib.sha256(body).hexdigest()
    # No delivery id (never from GitHub): the body's digest still dedupes a resend.
    event = Event(name, headers.get(DELIVERY_HEADER) or digest, payload, body_digest=digest)
    if name == "ping":
        log.info("%s pong", event.describe())
        return Answer(200, {"msg": "pong"})
    problem = router.malformed(event)
    if problem:
        log.warning("%s refused: a payload of the wrong shape (%s)", event.describe(), problem)
        return Answer(400, {"error": f"payload of the wrong shape: {problem}"})
    wanted, reason = router.accepts(event, app_id)
    if not wanted:
        log.info("%s ignored: %s", event.describe(), reason)
        return Answer(200, {"ignored": reason})
    if not submit(event):
        log.info("%s already received", event.describe())
        return Answer(200, {"duplicate": event.delivery})
    log.info("%s queued", event.describe())
    return Answer(202, {"queued": event.delivery})
