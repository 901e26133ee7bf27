"""Webhook events and the router that maps ``(event, action)`` to a handler.

Each concern (``pull_request``, ``commands``, ``check_run``) has a ``register(router)``
that adds its handlers to a `Router`; `bot.routes.build_router` composes them, and the
app factory and the worker each build theirs with it. A registration has two parts:

* ``accept(event, app_id)``: a cheap test on the payload alone, run by the web process
  to decide between "store it and answer 202" and "answer 200 and ignore it" (a
  comment that is no command, a check run of another App, ...). It returns ``None`` to
  accept or the reason it ignores the event;
* the handler itself, run later by a worker with the job's context
  (`bot.jobs.JobContext`: GitHub access, the store, which try this is).

Handlers stay thin: they read the payload and call plain functions. The web process
loads no handler's work (the rule engine, the GitHub client): handlers import it when
they run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Accept = Callable[["Event", "int | None"], "str | None"]
Handler = Callable[["Event", Any], None]


class PayloadError(ValueError):
    """A payload a handler cannot act on: permanent, so the job ends without a retry."""


@dataclass
class Event:
    name: str  # X-GitHub-Event
    delivery: str  # X-GitHub-Delivery
    payload: dict[str, Any] = field(default_factory=dict)
    body_digest: str = ""  # the raw body's, when received: the same body twice is one event

    @property
    def action(self) -> str | None:
        action = self.payload.get("action")
        return action if isinstance(action, str) else None

    @property
    def repo(self) -> str:
        repository = self.payload.get("repository")
        name = repository.get("full_name") if isinstance(repository, dict) else None
        return name if isinstance(name, str) else ""

    @property
    def installation_id(self) -> int | None:
        inst = self.payload.get("installation")
        number = inst.get("id") if isinstance(inst, dict) else None
        return number if isinstance(number, int) and not isinstance(number, bool) else None

    @property
    def sender(self) -> dict[str, Any]:
        return self.payload.get("sender") or {}

    def describe(self) -> str:
        action = f".{self.action}" if self.action else ""
        return f"{self.name}{action} {self.repo}"

    def to_job(self) -> dict[str, Any]:
        return {"name": self.name, "delivery": self.delivery, "payload": self.payload}

    @classmethod
    def from_job(cls, data: dict[str, Any]) -> Event:
        return cls(data["name"], data["delivery"], data["payload"])


@dataclass
class Route:
    event: str
    actions: frozenset[str]
    handler: Handler
    accept: Accept | None
    subject: Callable[[Event], str | None]
    shape: dict[str, type | tuple[type, ...]] = field(default_factory=dict)


# What every event footgun acts on carries, as GitHub sends it.
COMMON_SHAPE: dict[str, type | tuple[type, ...]] = {
    "repository": dict,
    "repository.full_name": str,
    "installation": (dict, type(None)),
    "installation.id": (int, type(None)),
    "sender": (dict, type(None)),
}
MAX_DEPTH = 64  # GitHub's payloads nest about a dozen levels


def shape_problem(payload: dict[str, Any], shape: dict[str, type | tuple[type, ...]]) -> str | None:
    """What in ``payload`` is not of the type ``shape`` names (dotted paths, parents
    listed before their fields: under a missing parent a field reads as null), or None."""
    for path, wanted in shape.items():
        value: Any = payload
        for key in path.split("."):
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, wanted) or (isinstance(value, bool) and wanted is int):
            names = " or ".join(_JSON_NAMES[t] for t in (wanted if isinstance(wanted, tuple) else (wanted,)))
            return f"`{path}` is {_json_type(value)}, not {names}"
    return None


_JSON_NAMES = {dict: "an object", str: "a string", int: "a whole number", list: "a list", type(None): "null"}


def _json_type(value: Any) -> str:
    return {type(None): "null", dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON ``value`` nests deeper than ``limit`` (walked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _always(event: Event, app_id: int | None) -> str | None:
    return None


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def register(
        self,
        event: str,
        *actions: str,
        accept: Accept | None = None,
        subject: Callable[[Event], str | None] | None = None,
        shape: dict[str, type | tuple[type, ...]] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorate a handler for ``event`` with one of ``actions``. ``subject`` names
        what runs must be serialised on (default: the pull request the event is about);
        ``shape`` the fields the handler reads and their types (dotted paths), checked
        before anything is stored."""

        def decorate(handler: Handler) -> Handler:
            self.routes.append(
                Route(
                    event,
                    frozenset(actions),
                    handler,
                    accept,
                    subject or pull_request_key,
                    {**COMMON_SHAPE, **(shape or {})},
                )
            )
            return handler

        return decorate

    def malformed(self, event: Event) -> str | None:
        """Why a signed payload cannot be acted on (a field of the wrong type), or None.
        Such a payload is refused, never stored: no later try could read it either."""
        action = event.payload.get("action")
        if action is not None and not isinstance(action, str):
            return f"`action` is {_json_type(action)}, not a string"
        route = self.route(event)
        return shape_problem(event.payload, route.shape) if route else None

    def route(self, event: Event) -> Route | None:
        for route in self.routes:
            if route.event == event.name and (not route.actions or event.action in route.actions):
                return route
        return None

    def accepts(self, event: Event, app_id: int | None) -> tuple[bool, str]:
        """Whether the worker has something to do with ``event``, and if not, why."""
        route = self.route(event)
        if route is None:
            return False, f"{event.name}.{event.action} is not an event footgun acts on"
        reason = (route.accept or _always)(event, app_id)
        return (reason is None), (reason or "accepted")

    def dispatch(self, event: Event, runtime: Any) -> None:
        route = self.route(event)
        if route is not None:
            route.handler(event, runtime)

    def subject(self, event: Event) -> str | None:
        route = self.route(event)
        return route.subject(event) if route else None


def pull_request_number(event: Event) -> int | None:
    """The number of the pull request an event is about, when the payload says."""
    payload = event.payload
    if "pull_request" in payload:
        return payload["pull_request"].get("number")
    issue = payload.get("issue")
    if issue and issue.get("pull_request") is not None:
        return issue.get("number")
    check_run = payload.get("check_run")
    if check_run:
        external = str(check_run.get("external_id") or "")
        if external.isdigit():
            return int(external)
        pulls = check_run.get("pull_requests") or []
        if pulls:
            if not isinstance(pulls[0], dict):
                raise PayloadError("`check_run.pull_requests` lists no pull request objects")
            return pulls[0].get("number")
    return None


def pull_request_key(event: Event) -> str | None:
    number = pull_request_number(event)
    return f"{event.repo.lower()}#{number}" if number is not None and event.repo else None
