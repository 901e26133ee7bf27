"""``check_run`` rerequested: someone pressed "Re-run" on the ``footgun`` check.

GitHub expects a new check run for a re-run; it analyses the pull request's current
head. The PR comes from the check run's ``external_id`` (set when footgun created
it), else from the payload's ``pull_requests`` (empty for fork PRs), else from the
commit's pull requests.
"""

from __future__ import annotations

import logging

from .analysis import CHECK_NAME, analyse
from .events import Event, pull_request_number, router

log = logging.getLogger("footgun.check_run")


def _accept(event: Event, app_id: int | None) -> str | None:
    run = event.payload.get("check_run") or {}
    if app_id is not None and (run.get("app") or {}).get("id") != app_id:
        return "a check run of another App"
    if run.get("name") != CHECK_NAME:
        return f"not the {CHECK_NAME} check run"
    return None


@router.register(
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
)
def on_rerequested(event: Event, ctx) -> None:
    number = pull_request_number(event)
    if number is None:
        head = event.payload["check_run"].get("head_sha", "")
        numbers = ctx.github(event).pulls_for_commit(event.repo, head)
        if not numbers:
            log.info("%s: no open pull request for commit %s", event.describe(), head[:7])
            return
        number = numbers[0]
    analyse(
        ctx.app,
        ctx.installation_id(event),
        ctx.cache,
        event.repo,
        number,
        ctx.trigger("rerequested", new_check_run=True),
    )
