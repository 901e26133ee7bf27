from __future__ import annotations

import pytest

from tests.fakegithub.fixtures import fake_github  # noqa: F401  (the fixture)

from .harness import start_bot, stop_bot
from .procs import RedisServer, have_redis


@pytest.fixture
def bot(fake_github, tmp_path):  # noqa: F811
    """The App (web app, SQLite queue in ``tmp_path``, two worker threads) against the fake."""
    running = start_bot(fake_github, tmp_path / "data")
    try:
        yield running
    finally:
        stop_bot(running)


@pytest.fixture
def make_bot(fake_github, tmp_path):  # noqa: F811
    """`bot` with settings of the test's choosing: ``make_bot(github_timeout=1)``."""
    made = []

    def make(**overrides):
        running = start_bot(fake_github, tmp_path / f"data{len(made)}", **overrides)
        made.append(running)
        return running

    yield make
    for running in made:
        stop_bot(running)


@pytest.fixture
def redis_url(tmp_path):
    """A private redis-server for one test (skipped where none is installed)."""
    if not have_redis():
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    try:
        yield server.url
    finally:
        server.stop()
