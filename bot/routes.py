"""The App's event handlers on one router: the one place they are composed.

The app factory (`bot.app.create_app`) uses the router to accept or ignore deliveries;
the worker (`bot.jobs.Jobs`) to run them. Each builds its own with `build_router`.
"""

from __future__ import annotations

from . import check_run, commands, pull_request
from .events import Router


def build_router() -> Router:
    """A router with every handler footgun has: pull request events, ``/footgun``
    commands, and the check run's "Re-run"."""
    router = Router()
    pull_request.register(router)
    commands.register(router)
    check_run.register(router)
    return router
