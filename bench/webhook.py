"""Webhook acknowledgement latency under gunicorn, while the workers are busy.

Starts, all on 127.0.0.1 and each in its own process:

- the fake GitHub of ``tests/fakegithub``, holding a repository of ``--manifests``
  manifests (1,500) with 8 pull requests of ``--changed`` changed manifests each
  (150), so every job does real work;
- the web process exactly as the Procfile runs it (``gunicorn 'footgun.bot.app:create_app()'``,
  ``WEB_CONCURRENCY`` workers, default 2) and the job worker (``python -m footgun.bot.worker``),
  both configured through the environment as in production;
- ``--scans`` processes (1) running full scans of a generated 5,000-document corpus
  over and over: the rule engine's CPU-bound work, as a worker's jobs do it on a big
  repository (the job worker itself mostly waits on the fake GitHub);

then 20 concurrent senders each post signed ``pull_request`` deliveries (GitHub's own
28 KB synchronize payload from ``shared/github-payloads``, pointed at the fake's pull
requests; a new connection per delivery, as GitHub does) and time each one until its
answer, in two phases:

- back to back: each sender posts its next delivery as soon as the previous one is
  answered. This saturates the machine: it measures capacity (deliveries answered a
  second), and the latency then is queueing behind the other senders, shown for
  information;
- paced: each sender posts ``--rate`` a second on a fixed schedule (100 a second in
  all by default, a burst far above what GitHub sends one installation), arriving
  on their own schedule as webhooks do. The target is checked here.

The run is bounded: at most ``--deliveries`` per sender and phase and ``--seconds``
in all. Reports p50/p90/p99/max of the answer latency, the answers' statuses, and
the CPU seconds the job worker and the scans spent meanwhile (that they were busy).
Target: p99 under 50 ms, every delivery answered 202.

Usage: ``python -m bench.webhook [--senders 20] [--deliveries 50] [--rate 5] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECRET = "bench-webhook-secret"
TARGET_P99_MS = 50.0
REPO = "acme/platform"
PAYLOADS = [ROOT.parent / "shared" / "github-payloads", Path("/work/shared/github-payloads")]


# ---- the fake GitHub, in its own process -----------------------------------------------
def serve_fake(pulls: int, manifests: int, changed: int, watch: int = 0) -> None:
    """Child: set the fake up, print one JSON line (url, App env, payloads), serve
    until stdin closes. With ``watch``, also print a JSON line with the monotonic
    clock (the same for every process of the machine) when the App's review, then
    its completed check run, appears on a pull request."""
    import random

    from bench.api_budget import manifest
    from tests.bot.harness import pull_request_payload
    from tests.bot.test_app_flow import MANIFEST
    from tests.fakegithub.server import FakeGitHubServer
    from tests.fakegithub.state import FakeGitHub

    rng = random.Random(5)
    with FakeGitHubServer(FakeGitHub()) as server:
        fake = server.fake
        fake.limits.content_per_minute = fake.limits.content_per_hour = None
        fake.create_repo(REPO, files={f"k8s/team-{i % 7}/app-{i}.yaml": manifest(rng, i) for i in range(manifests)})
        fake.install("acme", repos=[REPO], permissions=MANIFEST["default_permissions"])
        fake.add_user("alice")
        fake.set_permission(REPO, "alice", "write")
        payloads = []
        for n in range(pulls):
            changes = {
                f"k8s/team-{i % 7}/app-{i}.yaml": manifest(rng, i, edited=True)
                for i in range(n * changed, (n + 1) * changed)
            }
            pr = fake.open_pull_request(REPO, head=f"change-{n}", user="alice", changes=changes)
            payloads.append(pull_request_payload(fake, "synchronize", pr))
        print(json.dumps({"url": fake.url, "env": fake.app_env(), "payloads": payloads}), flush=True)
        if watch:
            threading.Thread(target=_watch, args=(fake, [p["number"] for p in payloads]), daemon=True).start()
        sys.stdin.read()  # until the parent closes it


def _watch(fake, numbers: list[int]) -> None:
    seen: set[tuple[str, int]] = set()
    while len(seen) < 2 * len(numbers):
        for number in numbers:
            pr = fake.pull_request(REPO, number)
            if ("review", number) not in seen and fake.reviews(REPO, number):
                seen.add(("review", number))
                print(json.dumps({"event": "review", "number": number, "at": time.monotonic()}), flush=True)
            runs = fake.check_runs(REPO, pr.head_sha, "footgun")
            if ("check", number) not in seen and any(r.status == "completed" for r in runs):
                seen.add(("check", number))
                calls = len(fake.requests.all())  # every API request the fake answered so far
                print(
                    json.dumps({"event": "check", "number": number, "at": time.monotonic(), "calls": calls}), flush=True
                )
        time.sleep(0.005)


def github_payload(fake_payload: dict) -> bytes:
    """GitHub's real synchronize payload with the fake's pull request in it."""
    for folder in PAYLOADS:
        sample = folder / "pull_request.synchronize.json"
        if sample.is_file():
            payload = json.loads(sample.read_text())
            break
    else:  # pragma: no cover - without shared/, the fake's own (smaller) payload
        return json.dumps(fake_payload).encode()
    for key in ("action", "number", "installation", "sender"):
        payload[key] = fake_payload[key]
    payload["repository"].update(fake_payload["repository"])
    pull = payload["pull_request"]
    for key, value in fake_payload["pull_request"].items():
        if isinstance(value, dict) and isinstance(pull.get(key), dict):
            pull[key].update(value)
        else:
            pull[key] = value
    return json.dumps(payload).encode()


# ---- the senders -----------------------------------------------------------------------
def post(port: int, body: bytes, signature: str) -> tuple[float, int]:
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature,
        "User-Agent": "GitHub-Hookshot/bench",
    }
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST", "/webhook", body=body, headers=headers)
        answer = connection.getresponse()
        answer.read()
        status = answer.status
    except OSError:
        status = 0
    finally:
        connection.close()
    return (time.perf_counter() - start) * 1000, status


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_web_options() -> list[str]:
    """The Procfile's gunicorn options for the web process, less those the benchmark
    sets itself (bind, workers) and the access log; ``${VAR:-default}`` expanded."""
    line = next(entry for entry in (ROOT / "Procfile").read_text().splitlines() if entry.startswith("web:"))
    line = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m.group(1), m.group(2)), line)
    words = shlex.split(line.split(":", 1)[1])[1:]  # past "gunicorn"
    options, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in ("--bind", "--workers", "--access-logfile"):
            skip = True
        elif word.startswith("--"):
            options.append(word)
        elif options and options[-1].startswith("--") and not options[-1].startswith("--no"):
            options.append(word)
    return options


def stop_processes(processes: list, logs, data) -> None:
    """SIGTERM every process (closing the first one's stdin: the fake GitHub's
    process stops on it), wait for them, and remove their data folder."""
    import shutil

    for process in reversed(processes):
        if process.poll() is None:
            if process is processes[0]:
                process.stdin.close()
            process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    logs.close()
    shutil.rmtree(data, ignore_errors=True)


def wait_healthy(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status in (200, 503):  # 503: up, waiting for a job worker's heartbeat
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the web process did not answer /healthz")


def cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of a process and its reaped children (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="footgun webhook acknowledgement latency")
    parser.add_argument("--senders", type=int, default=20)
    parser.add_argument("--deliveries", type=int, default=50, help="per sender and phase")
    parser.add_argument(
        "--rate", type=float, default=5.0, help="deliveries a second per sender in the paced phase (0: no paced phase)"
    )
    parser.add_argument("--seconds", type=float, default=60, help="bound on the sending phase")
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", 2)))
    parser.add_argument("--no-worker", action="store_true", help="no job worker (to tell its effect)")
    parser.add_argument(
        "--scans",
        type=int,
        default=1,
        help="processes scanning a 5,000-document corpus over and over meanwhile (the rule "
        "engine's work, as a worker's jobs do it), each keeping a CPU busy",
    )
    parser.add_argument("--manifests", type=int, default=1500, help="manifests in the fake's repository")
    parser.add_argument("--changed", type=int, default=150, help="manifests each pull request changes")
    parser.add_argument(
        "--data-parent",
        help="where FOOTGUN_DATA_DIR is made (default: the temp folder; /dev/shm tells what the disk's fsyncs cost)",
    )
    parser.add_argument("--serve-fake", nargs="+", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_fake:
        serve_fake(*args.serve_fake)
        return 0

    processes: list[subprocess.Popen] = []
    data = tempfile.mkdtemp(prefix="footgun-webhook-bench-", dir=args.data_parent)
    logs = open(os.path.join(data, "processes.log"), "wb")
    try:
        fake = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook", "--serve-fake", "8", str(args.manifests), str(args.changed)],
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
            "FOOTGUN_WRITE_INTERVAL": "0",
            "FOOTGUN_CONTENT_PER_MINUTE": "0",
            "FOOTGUN_CONTENT_PER_HOUR": "0",
            "PYTHONPATH": str(ROOT),
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        web = subprocess.Popen(
            [
                str(gunicorn),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.web_workers),
                *procfile_web_options(),
                "footgun.bot.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=logs,
        )
        processes.append(web)
        worker = subprocess.Popen(
            [sys.executable, "-m", "footgun.bot.worker"]
            if not args.no_worker
            else [sys.executable, "-c", "import time; time.sleep(3600)"],
            cwd=ROOT,
            env=env,
            stdout=logs,
            stderr=logs,
        )
        processes.append(worker)
        scanners = start_scans(args.scans, data, env, logs)
        processes.extend(scanners)
        wait_healthy(port)

        from footgun.bot.webhook import signature_of

        bodies = [github_payload(p) for p in setup["payloads"]]
        signed = [(body, signature_of(SECRET, body)) for body in bodies]
        for body, signature in signed[:2]:  # warm-up: each gunicorn worker imports lazily
            post(port, body, signature)
        time.sleep(1)  # the worker picks the warm-up jobs: it is busy from here on

        phases = [("back to back", 0.0)] + ([(f"paced, {args.rate:g}/s per sender", args.rate)] if args.rate else [])
        busy = [worker.pid] + [scanner.pid for scanner in scanners]
        results = [
            run_phase(port, signed, busy, args.senders, args.deliveries, args.seconds / len(phases), rate)
            for _, rate in phases
        ]
    finally:
        stop_processes(processes, logs, data)

    print(
        f"gunicorn with {args.web_workers} workers and the Procfile's {' '.join(procfile_web_options())}, "
        f"{'no job worker' if args.no_worker else 'the job worker running jobs'}"
        f"{f', {args.scans} process(es) scanning manifests' if args.scans else ''}, "
        f"the fake GitHub on loopback; {os.cpu_count()} CPUs; {args.senders} concurrent senders; "
        f"FOOTGUN_DATA_DIR under {args.data_parent or tempfile.gettempdir()}"
    )
    verdicts = []
    for (name, rate), (latencies, statuses, elapsed, worker_cpu) in zip(phases, results):
        p50, p90, p99 = (percentile(latencies, f) for f in (0.5, 0.9, 0.99))
        print(
            f"\n{name}: {len(latencies)} deliveries in {elapsed:.1f} s ({len(latencies) / elapsed:.0f}/s), answers: "
            + ", ".join(f"{status or 'connection error'} x{count}" for status, count in sorted(statuses.items()))
        )
        print(
            f"  acknowledgement latency: p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, "
            f"max {max(latencies):.1f} ms"
        )
        print(
            f"  CPU meanwhile: job worker {worker_cpu[0]:.1f} s"
            + "".join(f", scans {cpu:.1f} s" for cpu in worker_cpu[1:])
            + f" of {elapsed:.1f} s"
        )
        answered = set(statuses) <= {202}
        if rate:
            ok = p99 < TARGET_P99_MS and answered
            verdicts.append(ok)
            print(f"  target p99 < {TARGET_P99_MS:g} ms, every delivery answered 202: {'met' if ok else 'NOT MET'}")
        else:
            verdicts.append(answered)
            print(
                f"  capacity: {len(latencies) / elapsed:.0f} deliveries/s answered, "
                f"every one 202: {'yes' if answered else 'NO'}"
            )
    print(f"\nall targets met: {'yes' if all(verdicts) else 'NO'}")
    return 0


def start_scans(count: int, data: str, env: dict, logs) -> list[subprocess.Popen]:
    """``count`` processes running full scans of one generated 5,000-document corpus
    until stopped: CPU-bound rule-engine work beside the web process."""
    if not count:
        return []
    from bench import corpus

    folder = os.path.join(data, "scan-corpus")
    corpus.generate(folder, 5000)
    loop = "import sys\nfrom footgun.rules.engine import scan_paths\nwhile True:\n    scan_paths([sys.argv[1]])\n"
    return [
        subprocess.Popen([sys.executable, "-c", loop, folder], cwd=ROOT, env=env, stdout=logs, stderr=logs)
        for _ in range(count)
    ]


def run_phase(
    port: int,
    signed: list[tuple[bytes, str]],
    busy_pids: list[int],
    senders: int,
    deliveries: int,
    seconds: float,
    rate: float,
) -> tuple[list[float], dict[int, int], float, list[float]]:
    """``senders`` threads, each posting ``deliveries`` (back to back, or ``rate`` a
    second on a fixed schedule), for at most ``seconds``; with the CPU seconds the
    processes of ``busy_pids`` spent meanwhile."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    cpu_before = [cpu_seconds(pid) for pid in busy_pids]

    def sender(index: int) -> None:
        start = time.monotonic() + (index / senders / rate if rate else 0)  # spread the first sends
        for n in range(deliveries):
            if rate:
                delay = start + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            if time.monotonic() > deadline:
                return
            body, signature = signed[(index + n) % len(signed)]
            ms, status = post(port, body, signature)
            with lock:
                latencies.append(ms)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.perf_counter()
    threads = [threading.Thread(target=sender, args=(i,)) for i in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return (
        latencies,
        statuses,
        time.perf_counter() - started,
        [cpu_seconds(pid) - before for pid, before in zip(busy_pids, cpu_before)],
    )


if __name__ == "__main__":
    sys.exit(main())
