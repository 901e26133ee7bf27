"""Load: 200 deliveries from 20 concurrent senders against the App as the Procfile runs
it (gunicorn for the web, ``python -m footgun.bot.worker`` for the jobs), on SQLite (one worker
process sharing the file) and on Redis (two worker processes). Every delivery is
answered, every pull request reviewed exactly once. The answer times are printed; the
only bound asserted on them is a generous one."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import gunicorn
import pytest
import redis

from footgun.bot.store import RedisStore, SqliteStore
from footgun.bot.webhook import signature_of

from .harness import SECRET, pull_request_payload
from .procs import ROOT, Worker, app_env, free_port, have_redis, until
from .test_app_flow import DEPLOY, MANIFEST, SERVICE, TYPO

pytestmark = pytest.mark.slow  # gunicorn and worker processes under load

ORGS = 4
PRS_PER_ORG = 10
SENDERS = 20


def _setup(fake) -> list[tuple[str, object]]:
    """Four installations of ten pull requests each, every one with a selector typo."""
    fake.limits.content_per_minute = fake.limits.content_per_hour = None  # the load, not the limit, is tested
    fake.add_user("alice")
    prs = []
    for org in range(ORGS):
        repo = f"org{org}/shop"
        fake.create_repo(repo, files={"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE})
        fake.install(f"org{org}", repos=[repo], permissions=MANIFEST["default_permissions"])
        fake.set_permission(repo, "alice", "write")
        for n in range(PRS_PER_ORG):
            prs.append(
                (
                    repo,
                    fake.open_pull_request(repo, head=f"typo-{n}", user="alice", changes={f"k8s/svc-{n}.yaml": TYPO}),
                )
            )
    return prs


def _deliveries(fake, prs) -> list[tuple[str, str, bytes]]:
    """(event, delivery id, body): per pull request "opened", its redelivery (same id),
    "reopened" and "ready_for_review" (same head: one review); and 40 deliveries to
    ignore (pings, pushes, comments that are no command)."""
    out = []
    for _repo, pr in prs:
        opened = str(uuid.uuid4())
        for action, delivery in (
            ("opened", opened),
            ("opened", opened),
            ("reopened", str(uuid.uuid4())),
            ("ready_for_review", str(uuid.uuid4())),
        ):
            out.append(("pull_request", delivery, json.dumps(pull_request_payload(fake, action, pr)).encode()))
    for n in range(40):
        event, body = [
            ("ping", {"zen": "Keep it logically awesome.", "hook_id": n}),
            ("push", {"ref": "refs/heads/main", "repository": {"full_name": "org0/shop"}}),
            (
                "issue_comment",
                {
                    "action": "created",
                    "issue": {"number": 1, "pull_request": {}},
                    "comment": {"id": 900 + n, "body": "looks good", "user": {"login": "bob", "type": "User"}},
                    "repository": {"full_name": "org0/shop"},
                },
            ),
        ][n % 3]
        out.append((event, str(uuid.uuid4()), json.dumps(body).encode()))
    return out


def _send(url: str, event: str, delivery: str, body: bytes) -> tuple[int, float]:
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": signature_of(SECRET, body),
        },
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    return status, time.monotonic() - started


class App:
    """gunicorn (the Procfile's web line) and worker processes."""

    def __init__(self, env: dict[str, str], workers: int, tmp_path) -> None:
        self.port = free_port()
        self.web_log = open(tmp_path / "web.log", "wb")
        quiet = ["--no-control-socket"] if int(gunicorn.__version__.split(".")[0]) >= 27 else []
        self.web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "2",
                *quiet,
                "footgun.bot.app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.web_log,
            stderr=subprocess.STDOUT,
        )
        self.workers = [Worker(env, tmp_path / f"worker-{n}.log") for n in range(workers)]
        until(
            lambda: urllib.request.urlopen(f"{self.url}/healthz", timeout=2).status == 200, timeout=30, what="gunicorn"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.web.terminate()
        self.web.wait(timeout=20)
        self.web_log.close()
        for w in self.workers:
            w.stop()


@pytest.fixture(params=["sqlite", "redis"])
def backend(request, tmp_path):
    if request.param == "redis":
        if not have_redis():
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        return request.param, 2, {"redis_url": request.getfixturevalue("redis_url")}
    return request.param, 1, {}


def test_200_deliveries_from_20_senders_each_pr_reviewed_once(fake_github, tmp_path, backend):
    name, worker_processes, where = backend
    prs = _setup(fake_github)
    deliveries = _deliveries(fake_github, prs)
    assert len(deliveries) == 200
    env = app_env(fake_github, tmp_path / "data", FOOTGUN_WORKERS="2", FOOTGUN_LOG_LEVEL="WARNING", **where)
    app = App(env, worker_processes, tmp_path)
    try:
        started = time.monotonic()
        with ThreadPoolExecutor(SENDERS) as pool:
            answers = list(pool.map(lambda d: _send(f"{app.url}/webhook", *d), deliveries))
        sent = time.monotonic() - started

        statuses = [status for status, _ in answers]
        assert set(statuses) <= {200, 202}, statuses  # every delivery answered
        assert statuses.count(202) == 3 * len(prs)  # opened, reopened, ready: stored; redeliveries: once
        latencies = sorted(seconds for _, seconds in answers)

        def reviewed() -> bool:
            return all(fake_github.reviews(repo, pr.number) for repo, pr in prs) and all(
                run.status == "completed" for repo, pr in prs for run in fake_github.check_runs(repo, pr.head_sha)
            )

        until(reviewed, timeout=120, every=0.2, what="every pull request to be reviewed")
        processed = time.monotonic() - started
        # no job left in the journal: none still running that could post again
        store = _store(tmp_path, where)
        until(lambda: not store.journal_entries(), timeout=60, what="every job to be over")
        counts = [len(fake_github.reviews(repo, pr.number)) for repo, pr in prs]
        assert counts == [1] * len(prs)  # exactly once each
        assert all(len(fake_github.review_comments(repo, pr.number)) == 1 for repo, pr in prs)
        assert not [r for r in fake_github.requests.all() if r.status >= 500]
    finally:
        app.stop()
    p50, p95 = statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1]
    print(
        f"\n[{name}] 200 deliveries, {SENDERS} senders: sent in {sent:.2f} s; answer p50 {p50 * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms; {len(prs)} pull requests reviewed "
        f"{processed:.1f} s after the first delivery ({worker_processes} worker process(es) x 2 threads)"
    )
    assert latencies[-1] < 5.0  # generous: the target is a second


def _store(tmp_path, where: dict[str, str]):
    """The job store the App's processes share (its journal lists the jobs not over)."""
    if "redis_url" in where:
        return RedisStore(redis.Redis.from_url(where["redis_url"]))
    return SqliteStore(tmp_path / "data" / "queue.db")
