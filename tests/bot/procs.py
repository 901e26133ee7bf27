"""The App's own processes for tests that kill them or run several: ``python -m
footgun.bot.worker``, gunicorn, a private redis-server; and waiting on them."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .harness import FAST_ENV, SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def until(predicate: Callable[[], Any], timeout: float = 30.0, every: float = 0.05, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting{' for ' + what if what else ''}")
        time.sleep(every)


def app_env(fake, data_dir: Path | None = None, redis_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of the App's processes against ``fake``, at test speed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTGUN_", "GITHUB_", "REDIS_URL"))}
    env.update(fake.app_env())
    env.update(FAST_ENV)
    env.update({"GITHUB_WEBHOOK_SECRET": SECRET, "PYTHONPATH": str(ROOT), "FOOTGUN_LOG_LEVEL": "INFO"})
    if data_dir is not None:
        env["FOOTGUN_DATA_DIR"] = str(data_dir)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env


class Worker:
    """``python -m footgun.bot.worker`` (the Procfile's worker line) as a child process."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "footgun.bot.worker"], cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """kill -9: no signal handler, no ``finally``, nothing flushed."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._out.close()

    def interrupt(self) -> None:
        """SIGINT: stop now, handing running jobs back to the queue."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=20)
        self._out.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # a graceful shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if not self._out.closed:
            self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class RedisServer:
    """A private redis-server on a free loopback port, in memory only."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"redis://127.0.0.1:{self.port}/0"
        import redis

        client = redis.Redis.from_url(self.url)
        until(lambda: _ping(client, redis), timeout=10, what="redis-server")
        client.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _ping(client, redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def have_redis() -> bool:
    return shutil.which("redis-server") is not None
