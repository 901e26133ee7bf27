"""``pull_request`` opened, synchronize, reopened, ready_for_review: analyse the head.

Drafts: the check run shows the findings at once, but the review waits until the pull
request is marked ready (``ready_for_review``) so work in progress is not buried under
comments; ``/footgun recheck`` reviews a draft on request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .events import Event, Router

if TYPE_CHECKING:
    from .github import PullInfo
    from .jobs import JobContext

ACTIONS = ("opened", "synchronize", "reopened", "ready_for_review")


def _accept(event: Event, app_id: int | None) -> str | None:
    pull = event.payload.get("pull_request") or {}
    if not pull.get("number") or not (pull.get("head") or {}).get("sha"):
        return "no pull request in the payload"
    if pull.get("state") == "closed":
        return "the pull request is closed"
    return None


def on_pull_request(event: Event, job: JobContext) -> None:
    from .analysis import Trigger, analyse

    pull = event.payload["pull_request"]
    trigger = Trigger(event.action or "", expected_head=pull["head"]["sha"], pull=_as_sent(event))
    analyse(job, event, pull["number"], trigger)


def _as_sent(event: Event) -> PullInfo | None:
    """The pull request as the event shows it (a run that follows the delivery uses it;
    a run after a failure or a wait reads it again: it may be long after)."""
    from .github import pull_info

    try:
        return pull_info(event.repo, event.payload["pull_request"])
    except (KeyError, TypeError):
        return None  # an odd payload: the API's copy will do


def register(router: Router) -> None:
    router.register(
        "pull_request",
        *ACTIONS,
        accept=_accept,
        shape={
            "pull_request": dict,
            "pull_request.number": int,
            "pull_request.head": dict,
            "pull_request.head.sha": str,
            "pull_request.state": (str, type(None)),
        },
    )(on_pull_request)
