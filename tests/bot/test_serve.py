"""``footgun serve`` (`bot.serve.run`): the web server and its worker in one process,
over real HTTP, stopped by Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from footgun.bot.webhook import signature_of

from .harness import SECRET, pull_request_payload
from .procs import until
from .test_app_flow import REPO, open_typo, setup_repo

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_webhooks_and_runs_the_jobs(fake_github, tmp_path):
    setup_repo(fake_github)
    pr = open_typo(fake_github)
    port = free_port()
    env = {
        **os.environ,
        **fake_github.app_env(),
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "FOOTGUN_DATA_DIR": str(tmp_path / "data"),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from bot.serve import run; run('127.0.0.1', {port})"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        until(lambda: urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200)
        body = json.dumps(pull_request_payload(fake_github, "opened", pr)).encode()
        request = urllib.request.Request(
            f"{base}/webhook",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": "serve-1",
                "X-Hub-Signature-256": signature_of(SECRET, body),
            },
        )
        assert urllib.request.urlopen(request, timeout=5).status == 202
        until(lambda: [c for c in fake_github.check_runs(REPO) if c.status == "completed"])
        assert len(fake_github.reviews(REPO, pr.number)) == 1
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert "footgun listening" in output


def test_serve_explains_a_missing_secret(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_WEBHOOK_SECRET"}
    env.update({"PYTHONPATH": str(ROOT), "GITHUB_APP_ID": "42"})  # set up by hand, half-way
    proc = subprocess.run(
        [sys.executable, "-c", "from bot.serve import run; run('127.0.0.1', 0)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "GITHUB_WEBHOOK_SECRET" in proc.stderr
