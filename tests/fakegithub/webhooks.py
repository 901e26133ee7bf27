"""Webhook deliveries for the fake's state, shaped and signed like GitHub's.

Mirrors https://docs.github.com/en/webhooks/webhook-events-and-payloads (``pull_request``,
``issue_comment``, ``check_run``, ``ping``) and
https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries :
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>`` (plus the legacy
SHA-1 ``X-Hub-Signature``), ``X-GitHub-Event``, ``X-GitHub-Delivery`` (a GUID),
``X-GitHub-Hook-Installation-Target-Type: integration``. Payload objects use the same
JSON shapes as the REST API, so ids and SHAs agree with what the App then fetches.

    d = fake.webhooks.pull_request("acme/web", 1, "opened")
    client.post("/webhook", data=d.body, headers=d.headers(secret))
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

from .serializers import Urls, check_run_json, issue_comment_json, issue_json, pull_json, repo_json, user_json
from .state import FakeGitHub, Repository, User


def signature_256(secret: str | bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


@dataclass
class Delivery:
    """One webhook delivery: the event name, its payload and the exact body bytes."""

    event: str
    payload: dict[str, Any]
    app_id: int
    delivery_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def body(self) -> bytes:
        return json.dumps(self.payload, separators=(",", ":")).encode()

    def headers(self, secret: str | bytes | None) -> dict[str, str]:
        """GitHub's delivery headers; signed when ``secret`` is given."""
        body = self.body
        out = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/fake",
            "X-GitHub-Event": self.event,
            "X-GitHub-Delivery": self.delivery_id,
            "X-GitHub-Hook-ID": "1",
            "X-GitHub-Hook-Installation-Target-Type": "integration",
            "X-GitHub-Hook-Installation-Target-ID": str(self.app_id),
        }
        if secret is not None:
            key = secret.encode() if isinstance(secret, str) else secret
            out["X-Hub-Signature"] = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
            out["X-Hub-Signature-256"] = signature_256(secret, body)
        return out

    def redelivery(self) -> Delivery:
        """The same delivery again (same ``X-GitHub-Delivery``), as GitHub's "Redeliver"."""
        return Delivery(self.event, self.payload, self.app_id, self.delivery_id)

    def post(self, url: str, secret: str | bytes | None, timeout: float = 10) -> requests.Response:
        """POST the delivery to a running webhook endpoint."""
        return requests.post(url, data=self.body, headers=self.headers(secret), timeout=timeout)


class Webhooks:
    """Builds deliveries from the fake's current state (``fake.webhooks``)."""

    def __init__(self, fake: FakeGitHub) -> None:
        self.fake = fake

    def _urls(self) -> Urls:
        base = self.fake.url or "http://fakegithub.invalid"
        return Urls(api=base, html=base)

    def _common(self, repo: Repository, sender: User) -> dict[str, Any]:
        inst = self.fake.installation_for(repo)
        out: dict[str, Any] = {
            "repository": repo_json(self._urls(), repo, full=False),
            "sender": user_json(self._urls(), sender),
        }
        if repo.owner.type == "Organization":
            out["organization"] = {"login": repo.owner.login, "id": repo.owner.id, "node_id": repo.owner.node_id}
        if inst is not None:
            out["installation"] = {"id": inst.id, "node_id": f"MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u{inst.id}"}
        return out

    def pull_request(
        self, full_name: str, number: int, action: str = "opened", sender: str | None = None, before: str | None = None
    ) -> Delivery:
        """``pull_request`` (opened, synchronize, reopened, ready_for_review, closed, ...).
        For ``synchronize``, ``before`` defaults to the previous head and ``after`` is the
        current one."""
        f = self.fake
        with f.lock:
            pr = f.pull_request(full_name, number)
            who = f.user(sender) if sender else pr.user
            payload: dict[str, Any] = {
                "action": action,
                "number": number,
                "pull_request": pull_json(self._urls(), f, pr),
            }
            if action == "synchronize":
                prev = pr.head_history[-2] if len(pr.head_history) > 1 else pr.head_sha
                payload["before"] = before or prev
                payload["after"] = pr.head_sha
            payload.update(self._common(pr.repo, who))
            return Delivery("pull_request", payload, f.app.id)

    def issue_comment(self, comment_id: int, action: str = "created") -> Delivery:
        """``issue_comment`` for an existing comment (see ``FakeGitHub.add_issue_comment``)."""
        f = self.fake
        with f.lock:
            c = f.issue_comments[comment_id]
            payload = {
                "action": action,
                "issue": issue_json(self._urls(), f, c.issue),
                "comment": issue_comment_json(self._urls(), f, c),
            }
            payload.update(self._common(c.issue.repo, c.user))
            return Delivery("issue_comment", payload, f.app.id)

    def check_run(self, run_id: int, action: str = "rerequested", sender: str = "octocat") -> Delivery:
        """``check_run`` (e.g. ``rerequested`` when someone clicks "Re-run")."""
        f = self.fake
        with f.lock:
            run = f.check_runs_by_id[run_id]
            payload = {"action": action, "check_run": check_run_json(self._urls(), f, run)}
            payload.update(self._common(run.repo, f._as_user(sender)))
            return Delivery("check_run", payload, f.app.id)

    def ping(self) -> Delivery:
        f = self.fake
        return Delivery(
            "ping",
            {
                "zen": "Keep it logically awesome.",
                "hook_id": 1,
                "hook": {
                    "type": "App",
                    "id": 1,
                    "active": True,
                    "app_id": f.app.id,
                    "events": ["pull_request", "issue_comment", "check_run"],
                },
            },
            f.app.id,
        )
