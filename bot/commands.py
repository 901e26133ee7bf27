"""``/footgun`` commands in pull request comments (``issue_comment`` created).

The command is the comment's first line: ``/footgun recheck`` re-runs the analysis on
the current head (the payload has no head: the worker reads the PR), ``/footgun help``
lists the commands. Comments from bots, the App included, are ignored. ``recheck``
runs only for people with admin, maintain or write permission: 👀 when accepted, 🚀
when done, 😕 when refused, with a short reply the first time for each person on each
pull request. The help list is posted once per pull request (later requests get 👀).
A burst of ``recheck`` from one person is one run: a recheck whose author has a later
one waiting in the queue leaves the run to it.

No line footgun writes reads as a command (`bot.review.neutralise`), so the App can
never trigger itself.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from .events import Event, Router

if TYPE_CHECKING:
    from .jobs import JobContext

log = logging.getLogger("footgun.commands")

COMMAND = re.compile(r"^\s*/footgun(?:\s+(\S+))?\s*$", re.IGNORECASE)
WRITERS = ("admin", "maintain", "write")
HELP = """**footgun** reviews the Kubernetes manifests this pull request changes. Commands, as the first line of a comment:

- `/footgun recheck`: analyse the current head again (people with write access).
- `/footgun help`: this list.

Findings can be silenced with `# footgun:ignore <rule>` on the resource's first line, \
or configured in `.footgun.yml` at the root of the repository."""


def parse_command(body: str | None) -> str | None:
    """The command named on a comment's first line (``help`` for a bare ``/footgun``)."""
    first = (body or "").lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
    match = COMMAND.match(first)
    if not match:
        return None
    return (match.group(1) or "help").lower()


def _other_rechecks(event: Event, job: JobContext, login: str) -> list[tuple[int, str]]:
    """The comment ids and deliveries of the same person's other ``/footgun recheck``
    jobs on the same pull request that are in the journal (waiting or running)."""
    found = []
    for entry in job.queued():
        try:
            other = Event.from_job(entry.data)
        except (KeyError, TypeError):
            continue
        body = other.payload.get("comment") if other.name == "issue_comment" else None
        if not isinstance(body, dict) or other.delivery == event.delivery or other.repo.lower() != event.repo.lower():
            continue
        if (other.payload.get("issue") or {}).get("number") != event.payload["issue"]["number"]:
            continue
        user = body.get("user")
        if not isinstance(user, dict):
            user = {}
        if (
            str(user.get("login", "")).lower() == login.lower()
            and isinstance(body.get("id"), int)
            and parse_command(body.get("body") if isinstance(body.get("body"), str) else None) == "recheck"
        ):
            found.append((body["id"], other.delivery))
    return found


def _accept(event: Event, app_id: int | None) -> str | None:
    issue = event.payload.get("issue") or {}
    comment = event.payload.get("comment") or {}
    if issue.get("pull_request") is None:
        return "a comment on an issue, not a pull request"
    if parse_command(comment.get("body")) is None:
        return "no /footgun command on the comment's first line"
    user = comment.get("user") or {}
    if user.get("type") == "Bot" or (comment.get("performed_via_github_app") or {}).get("id") == app_id:
        return "commands from bots are ignored"
    if (issue.get("state") or "open") != "open":
        return "the pull request is closed"
    return None


def on_comment(event: Event, job: JobContext) -> None:
    from .analysis import Trigger, analyse
    from .review import code_span, neutralise

    comment = event.payload["comment"]
    number = event.payload["issue"]["number"]
    login = comment["user"]["login"]
    if job.app.is_self(login):
        return
    gh = job.github(event)
    command = parse_command(comment.get("body")) or "help"  # accepted: the first line is a command
    pull = f"{event.repo.lower()}#{number}"
    if command != "recheck":
        with job.once(f"help:{pull}") as first:
            if not first:  # the list is on the pull request already
                gh.react(event.repo, comment["id"], "eyes")
                return
            note = "" if command == "help" else f"{code_span(command)} is not a footgun command.\n\n"
            gh.comment(event.repo, number, neutralise(note + HELP))
        return
    role = gh.permission(event.repo, login)
    if role not in WRITERS:
        gh.react(event.repo, comment["id"], "confused")
        with job.once(f"refused:{pull}:{login.lower()}") as first:
            if first:
                gh.comment(
                    event.repo,
                    number,
                    neutralise(
                        f"@{login} footgun's recheck needs write access to this repository (yours: {role}). "
                        f"Pushing a commit runs it too."
                    ),
                )
        log.info("%s: recheck refused for %s (%s)", event.describe(), login, role)
        return
    gh.react(event.repo, comment["id"], "eyes")
    # A burst of rechecks from one person is one run, whichever of its jobs runs first:
    # the latest one runs, and marks the earlier ones it saw as covered (an earlier one
    # may wait for the pull request's lock until the latest has finished).
    others = _other_rechecks(event, job, login)
    if any(other_id > comment["id"] for other_id, _ in others) or job.marked(f"recheck-covered:{event.delivery}"):
        log.info("%s: a later recheck by %s runs for this one too", event.describe(), login)
        return
    for other_id, delivery in others:
        if other_id < comment["id"]:
            job.mark(f"recheck-covered:{delivery}")
    analyse(job, event, number, Trigger("recheck", force_review=True))
    gh.react(event.repo, comment["id"], "rocket")


def register(router: Router) -> None:
    router.register(
        "issue_comment",
        "created",
        accept=_accept,
        shape={
            "issue": dict,
            "issue.number": int,
            "issue.pull_request": (dict, type(None)),
            "issue.state": (str, type(None)),
            "comment": dict,
            "comment.id": int,
            "comment.body": str,
            "comment.user": dict,
            "comment.user.login": str,
            "comment.performed_via_github_app": (dict, type(None)),
        },
    )(on_comment)
