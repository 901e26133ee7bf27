"""A fake of the GitHub API (REST + a GraphQL subset), served over real HTTP on
loopback, for testing the App through PyGithub. See ``README.md`` in this folder.

    from tests.fakegithub import FakeGitHub, FakeGitHubServer

    with FakeGitHubServer(FakeGitHub()) as server:
        fake = server.fake
        inst = fake.install("acme", repos=["acme/web"])
        ...
"""

from .auth import InstallationToken
from .diff import FileDiff, Hunk
from .errors import APIError
from .faults import FaultInjector, FaultRule, RequestLog, RequestRecord
from .server import FakeGitHubServer, create_wsgi_app
from .state import (
    App,
    CheckRun,
    FakeGitHub,
    Installation,
    Issue,
    IssueComment,
    Limits,
    PullRequest,
    Reaction,
    Repository,
    Review,
    ReviewComment,
    ReviewThread,
    User,
)
from .webhooks import Delivery, Webhooks, signature_256

__all__ = [
    "APIError",
    "App",
    "CheckRun",
    "FakeGitHub",
    "FakeGitHubServer",
    "FaultInjector",
    "FaultRule",
    "FileDiff",
    "Hunk",
    "Installation",
    "InstallationToken",
    "Issue",
    "IssueComment",
    "Limits",
    "PullRequest",
    "Reaction",
    "Repository",
    "RequestLog",
    "RequestRecord",
    "Review",
    "ReviewComment",
    "ReviewThread",
    "User",
    "create_wsgi_app",
    "Delivery",
    "Webhooks",
    "signature_256",
]
