from __future__ import annotations

import pytest

from tests.fakegithub.fixtures import fake_github  # noqa: F401  (the fixture)

from .harness import start_bot, stop_bot


@pytest.fixture
def bot(fake_github, tmp_path):  # noqa: F811
    """The App (web app, SQLite queue in ``tmp_path``, two worker threads) against the fake."""
    running = start_bot(fake_github, tmp_path / "data")
    try:
        yield running
    finally:
        stop_bot(running)
