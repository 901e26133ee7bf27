"""What the steps of one analysis of a pull request share (`bot.analysis`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .budget import Budget
from .evaluation import SandboxedEngine
from .fetch import BlobCache
from .github import GitHubApp, Installation, PullInfo
from .github_source import GitHubSource


@dataclass
class PullRun:
    """One analysis of one pull request at ``pr.head_sha``: the App, its installation's
    client, the blob cache, the budget, and the pull request as read for this run."""

    app: GitHubApp
    gh: Installation
    cache: BlobCache
    pr: PullInfo
    budget: Budget = field(default_factory=Budget)

    @property
    def repo(self) -> str:
        return self.pr.repo

    @property
    def where(self) -> str:
        """The pull request, for log lines."""
        return f"pr={self.pr.repo}#{self.pr.number}"

    def source(self) -> GitHubSource:
        return GitHubSource(self.gh, self.cache, self.pr)

    def engine(self) -> SandboxedEngine:
        return SandboxedEngine(self.budget)
