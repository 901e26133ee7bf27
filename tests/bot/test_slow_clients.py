"""Slow clients: the Procfile's web process as a real gunicorn, 16 connections
trickling a byte a second, and signed deliveries that must still be answered within
GitHub's 10 seconds; ``footgun serve`` closing connections that send nothing."""

from __future__ import annotations

import json
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import urllib.request

import pytest

from footgun.bot.webhook import signature_of

from .harness import SECRET
from .procs import ROOT, app_env, free_port, until

pytestmark = pytest.mark.slow  # starts the Procfile's processes

GITHUB_TIMEOUT = 10.0  # GitHub gives up on a delivery after 10 s
SLOW_CLIENTS = 16


def procfile_web(port: int) -> list[str]:
    """The Procfile's web line as argv, on a loopback port."""
    line = next(entry for entry in (ROOT / "Procfile").read_text().splitlines() if entry.startswith("web:"))
    line = line.split(":", 1)[1].replace("0.0.0.0", "127.0.0.1")
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: str(port) if m.group(1) == "PORT" else m.group(2), line)
    argv = shlex.split(line)
    assert argv[0] == "gunicorn"
    return [sys.executable, "-m", "gunicorn", *argv[1:]]  # this environment's


def trickle(port: int, stop: threading.Event, opened: list) -> None:
    """A client sending a webhook request one byte a second."""
    request = (
        b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100000\r\n\r\n" + b"x" * 1000
    )
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        opened.append(sock)
        for byte in request:
            if stop.wait(1.0):
                return
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                return  # the server closed it: fine


def signed_ping(port: int, n: int) -> int:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": n}).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhook",
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": "ping",
            "X-GitHub-Delivery": f"slow-{n}",
            "X-Hub-Signature-256": signature_of(SECRET, body),
        },
    )
    with urllib.request.urlopen(request, timeout=GITHUB_TIMEOUT) as answer:
        return answer.status


def test_the_procfile_web_process_answers_signed_deliveries_while_slow_clients_trickle(fake_github, tmp_path):
    port = free_port()
    log = open(tmp_path / "web.log", "wb")
    web = subprocess.Popen(
        procfile_web(port), cwd=ROOT, env=app_env(fake_github, tmp_path / "data"), stdout=log, stderr=subprocess.STDOUT
    )
    stop = threading.Event()
    opened: list = []
    clients = [threading.Thread(target=trickle, args=(port, stop, opened), daemon=True) for _ in range(SLOW_CLIENTS)]
    try:
        until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True, what="gunicorn")
        for client in clients:
            client.start()
        until(lambda: len(opened) == SLOW_CLIENTS, what="the slow clients")
        stop.wait(3.0)  # every slow client has started its request
        for n in range(3):
            assert signed_ping(port, n) == 200  # raises on GitHub's timeout
        assert all(client.is_alive() for client in clients)  # still trickling meanwhile
    finally:
        stop.set()
        web.terminate()
        web.wait(timeout=30)
        log.close()


def test_serve_closes_connections_that_send_nothing(fake_github, tmp_path):
    port = free_port()
    env = app_env(fake_github, tmp_path / "data")
    proc = subprocess.Popen(
        [sys.executable, "-c", f"from bot.serve import run; run('127.0.0.1', {port}, idle_timeout=1.0)"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        until(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True, what="serve")
        idle = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(SLOW_CLIENTS)]
        for sock in idle:
            assert sock.recv(1024) == b""  # closed by the server, not by our own timeout
            sock.close()
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


# --- start-up ---------------------------------------------------------------------------------------


def _bad_settings(tmp_path, fake):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    truncated = "\n".join(fake.app.private_key_pem.strip().splitlines()[:5] + ["-----END RSA PRIVATE KEY-----"])
    return {
        "key": ({"GITHUB_PRIVATE_KEY": truncated}, "GITHUB_PRIVATE_KEY does not parse"),
        "port": ({"PORT": "eighty"}, "PORT must be a whole number"),
        "data": ({"FOOTGUN_DATA_DIR": str(a_file)}, "is a file, not a directory"),
        "secret": ({"GITHUB_WEBHOOK_SECRET": "hunter2"}, "GITHUB_WEBHOOK_SECRET is 7 characters: too short"),
    }


COMMANDS = {
    "web": lambda port: procfile_web(port),
    "worker": lambda port: [sys.executable, "-m", "footgun.bot.worker"],
    "serve": lambda port: [sys.executable, "-c", f"from bot.serve import run; run('127.0.0.1', {port})"],
}


@pytest.mark.parametrize(
    "process, problem",
    [
        (process, problem)
        for process in sorted(COMMANDS)
        for problem in ("key", "port", "data", "secret")
        if process != "worker" or problem in ("key", "data")
    ],
)  # the worker listens on no port, verifies no webhook
def test_start_up_refuses_what_cannot_work_with_a_one_line_reason(fake_github, tmp_path, process, problem):
    env_change, reason = _bad_settings(tmp_path, fake_github)[problem]
    env = app_env(fake_github, tmp_path / "data", **env_change)
    done = subprocess.run(COMMANDS[process](free_port()), cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and reason in lines[0], lines
