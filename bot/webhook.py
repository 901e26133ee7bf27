"""Receiving a webhook delivery: verify, parse, decide, store.

The order matters: the signature is checked over the raw body before anything is
parsed or stored (401 and nothing else when it is missing or wrong, compared in
constant time); only then is the JSON read (400 if malformed). ``ping`` is answered
200; an event a handler accepts is stored durably and answered 202 before any work
starts; a redelivery of a stored delivery, and every other event, get 200.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from typing import Any, Callable

from .events import Event, Router
from .logs import for_delivery

log = logging.getLogger("footgun.webhook")

SIGNATURE_HEADER = "X-Hub-Signature-256"


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


def receive(body: bytes, headers: Any, secret: str, router: Router, app_id: int | None,
            submit: Callable[[Event], bool]) -> Answer:
    with for_delivery(headers.get("X-GitHub-Delivery") or "-"):
        return _receive(body, headers, secret, router, app_id, submit)


def _receive(body: bytes, headers: Any, secret: str, router: Router, app_id: int | None,
             submit: Callable[[Event], bool]) -> Answer:
    if not valid_signature(secret, body, headers.get(SIGNATURE_HEADER)):
        log.warning("refused: missing or wrong %s", SIGNATURE_HEADER)
        return Answer(401, {"error": "invalid signature"})
    name = headers.get("X-GitHub-Event")
    if not name:
        return Answer(400, {"error": "missing X-GitHub-Event header"})
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Answer(400, {"error": "body is not valid JSON"})
    if not isinstance(payload, dict):
        return Answer(400, {"error": "body is not a JSON object"})
    # No delivery id (never from GitHub): the body's digest still dedupes a resend.
    delivery = headers.get("X-GitHub-Delivery") or "sha256-" + hashlib.sha256(body).hexdigest()
    event = Event(name, delivery, payload)
    if name == "ping":
        log.info("%s pong", event.describe())
        return Answer(200, {"msg": "pong"})
    wanted, reason = router.accepts(event, app_id)
    if not wanted:
        log.info("%s ignored: %s", event.describe(), reason)
        return Answer(200, {"ignored": reason})
    if not submit(event):
        log.info("%s already received", event.describe())
        return Answer(200, {"duplicate": delivery})
    log.info("%s queued", event.describe())
    return Answer(202, {"queued": delivery})
