"""pytest fixtures for the fake GitHub.

Load with ``pytest_plugins = ["tests.fakegithub.fixtures"]`` (in a test module or a
``conftest.py``), then ask for ``fake_github``: a fresh :class:`FakeGitHub` already
served on loopback (``fake_github.url`` is the base URL for PyGithub / ``GITHUB_API_URL``).

(PYTEST_DONT_REWRITE: no asserts here, and importing the fixture directly as well as
through ``pytest_plugins`` then raises no "already imported" warning.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeGitHubServer
from .state import FakeGitHub


@pytest.fixture
def fake_github() -> Iterator[FakeGitHub]:
    """A fresh fake GitHub served over HTTP on 127.0.0.1 for one test."""
    server = FakeGitHubServer(FakeGitHub()).start()
    try:
        yield server.fake
    finally:
        server.stop()
