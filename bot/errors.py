"""GitHub's errors as the App tells them apart: what ends a job, what is tried again.

Kept apart from the GitHub client (`bot.github`) so the job queue can tell them apart
without loading it.
"""

from __future__ import annotations

from typing import Any


class GitHubError(Exception):
    def __init__(self, message: str, status: int | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.data = data


class NotFound(GitHubError):
    """404/410: the App was uninstalled, or the repository or pull request is gone."""


class NotYetThere(NotFound):
    """404 on a git object read (a tree, a blob) named by a fresh push: GitHub may
    still be storing it, so one more try later is worth it."""


class Unprocessable(GitHubError):
    """422: GitHub refused the request as written (e.g. a review comment off the diff)."""


class Forbidden(GitHubError):
    """403 without a rate limit: the installation lacks a permission."""


class Transient(GitHubError):
    """5xx, timeouts, rate limits: worth trying again later. ``maybe_applied``: a write
    that may have taken effect although the answer was an error (a timeout, a 5xx)."""

    def __init__(
        self,
        message: str,
        status: int | None = None,
        data: Any = None,
        retry_after: float | None = None,
        maybe_applied: bool = False,
    ) -> None:
        super().__init__(message, status, data)
        self.retry_after = retry_after
        self.maybe_applied = maybe_applied


class RateLimited(Transient):
    """403/429 rate limit: GitHub did nothing; not before ``retry_after`` seconds."""
