"""``check_run`` rerequested: someone pressed "Re-run" on the ``footgun`` check.

GitHub expects a new check run for a re-run; it analyses the pull request's current
head. The PR comes from the check run's ``external_id`` (set when footgun created
it), else from the payload's ``pull_requests`` (empty for fork PRs), else from the
commit's pull requests.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from .events import Event, Router, pull_request_number

if TYPE_CHECKING:
    from .jobs import JobContext

log = logging.getLogger("footgun.check_run")

CHECK_NAME = "footgun"


def _accept(event: Event, app_id: int | None) -> str | None:
    run = event.payload.get("check_run") or {}
    if app_id is not None and (run.get("app") or {}).get("id") != app_id:
        return "a check run of another App"
    if run.get("name") != CHECK_NAME:
        return f"not the {CHECK_NAME} check run"
    return None


def on_rerequested(event: Event, job: JobContext) -> None:
    from .analysis import Trigger, analyse

    number = pull_request_number(event)
    if number is None:
        head = event.payload["check_run"].get("head_sha", "")
        numbers = job.github(event).pulls_for_commit(event.repo, head)
        if not numbers:
            log.info("%s: no open pull request for commit %s", event.describe(), head[:7])
            return
        number = numbers[0]
    analyse(job, event, number, Trigger("rerequested", new_check_run=True))


def register(router: Router) -> None:
    router.register(
        "check_run",
        "rerequested",
        accept=_accept,
        shape={
            "check_run": dict,
            "check_run.name": (str, type(None)),
            "check_run.head_sha": str,
            "check_run.external_id": (str, type(None)),
            "check_run.app": (dict, type(None)),
            "check_run.pull_requests": (list, type(None)),
        },
    )(on_rerequested)
