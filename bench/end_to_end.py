"""End to end: from a signed webhook delivery to the review posted on the pull request.

The App runs as in production, from the Procfile's two processes (gunicorn serving
``footgun.bot.app:create_app()`` and ``python -m footgun.bot.worker``) with the default settings
(including the pacing of writes), against the fake GitHub of ``tests/fakegithub`` in
its own process on 127.0.0.1, holding a repository of at least 300 manifests. For
each of ``--pulls`` pull requests changing ``--files`` manifests (250 by default, each
pull request its own; with footguns, so there is a review to post), one signed
``pull_request`` ``opened`` delivery (GitHub's own payload) is
posted and the time taken until the App's review is on the pull request, then until
its check run is completed (the fake's process watches its own state and reports on
the machine's monotonic clock). The first delivery includes the worker's first job (imports,
installation token); the others show the steady state.

The App's writes of one installation are spaced by a second (``FOOTGUN_WRITE_INTERVAL``,
to stay clear of GitHub's secondary rate limits); ``--write-interval 0`` leaves that
spacing out of the figure.

Usage: ``python -m bench.end_to_end [--pulls 5] [--files 250] [--write-interval 0] [--timeout 120]``.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.webhook import SECRET, free_port, github_payload, post, stop_processes, wait_healthy  # noqa: E402

FILES = 250  # manifests a pull request changes
REPOSITORY = 300  # manifests in the repository, at least


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="footgun end to end: delivery to review")
    parser.add_argument("--pulls", type=int, default=5)
    parser.add_argument("--files", type=int, default=FILES, help=f"manifests each pull request changes ({FILES})")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for one review")
    parser.add_argument(
        "--write-interval",
        help="FOOTGUN_WRITE_INTERVAL for the run (default: the App's, 1 s between two writes of an installation)",
    )
    args = parser.parse_args(argv)
    manifests = max(REPOSITORY, args.pulls * args.files)  # each pull request changes files of its own

    from footgun.bot.webhook import signature_of

    data = tempfile.mkdtemp(prefix="footgun-e2e-bench-")
    logs = open(os.path.join(data, "processes.log"), "wb")
    processes: list[subprocess.Popen] = []
    timings: list[tuple[int, float | None, float | None]] = []
    answered: list[int | None] = []  # API requests the fake answered, by each completed check run
    try:
        fake = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.webhook",
                "--serve-fake",
                str(args.pulls),
                str(manifests),
                str(args.files),
                "1",
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=logs,
        )
        processes.append(fake)
        setup = json.loads(fake.stdout.readline())
        port = free_port()
        env = {
            **os.environ,
            **setup["env"],
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "FOOTGUN_DATA_DIR": data,
            "PORT": str(port),
            "FOOTGUN_LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
        if args.write_interval is not None:
            env["FOOTGUN_WRITE_INTERVAL"] = args.write_interval
        gunicorn = Path(sys.executable).with_name("gunicorn")
        processes.append(
            subprocess.Popen(
                [str(gunicorn), "--bind", f"127.0.0.1:{port}", "--workers", "2", "footgun.bot.app:create_app()"],
                cwd=ROOT,
                env=env,
                stdout=logs,
                stderr=logs,
            )
        )
        processes.append(
            subprocess.Popen([sys.executable, "-m", "footgun.bot.worker"], cwd=ROOT, env=env, stdout=logs, stderr=logs)
        )
        wait_healthy(port)
        events = queue.Queue()
        threading.Thread(target=lambda: [events.put(json.loads(line)) for line in fake.stdout], daemon=True).start()
        for fake_payload in setup["payloads"]:
            fake_payload["action"] = "opened"
            number = fake_payload["number"]
            body = github_payload(fake_payload)
            start = time.monotonic()
            ms, status = post(port, body, signature_of(SECRET, body))
            if status != 202:
                raise RuntimeError(f"delivery answered {status}")
            seen: dict[str, float] = {}
            counted = None
            deadline = time.monotonic() + args.timeout
            while len(seen) < 2 and time.monotonic() < deadline:
                try:
                    event = events.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if event["number"] == number:
                    seen[event["event"]] = event["at"] - start
                    counted = event.get("calls", counted)
            timings.append((number, seen.get("review"), seen.get("check")))
            answered.append(counted)
    finally:
        stop_processes(processes, logs, data)

    pacing = f"FOOTGUN_WRITE_INTERVAL={args.write_interval}" if args.write_interval is not None else "default settings"
    print(
        f"the App as the Procfile runs it (gunicorn + worker, {pacing}) against the fake GitHub "
        f"on loopback; pull requests changing {args.files} manifests in a repository of {manifests}"
    )
    for index, (number, review_at, checked_at) in enumerate(timings):
        label = "first (cold worker)" if index == 0 else "warm"
        review = f"{review_at:6.2f} s" if review_at is not None else "   none"
        check = f"{checked_at:6.2f} s" if checked_at is not None else "   none"
        previous = answered[index - 1] if index else 0
        made = answered[index] - previous if answered[index] is not None and previous is not None else None
        print(
            f"  PR #{number:<3} {label:20s} delivery -> review posted {review}   -> check run completed {check}"
            + (f"   {made} API calls" if made is not None else "")
        )
    warm = sorted(t for _, t, _ in timings[1:] if t is not None)
    if warm:
        print(f"warm median, delivery to review: {warm[len(warm) // 2]:.2f} s")
    if any(t is None for _, t, _ in timings):
        print("some reviews were not posted in time: NOT OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
