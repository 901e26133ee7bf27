"""The App under test: its web app, its durable SQLite queue and a real huey consumer,
talking to the fake GitHub over HTTP; plus webhook payloads built from the fake's state
(the fields GitHub sends that the App reads, named as in GitHub's payloads)."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from footgun.bot.app import create_app
from footgun.bot.jobs import Jobs
from footgun.bot.routes import build_router
from footgun.bot.settings import Settings
from footgun.bot.webhook import signature_of
from tests.fakegithub.serializers import Urls, pull_json
from tests.fakegithub.state import FakeGitHub, IssueComment, PullRequest, Repository

SECRET = "test-webhook-secret"


def repo_json(repo: Repository) -> dict[str, Any]:
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": {"login": repo.owner.login, "id": repo.owner.id, "type": repo.owner.type},
        "default_branch": repo.default_branch,
    }


def user_json(fake: FakeGitHub, login: str) -> dict[str, Any]:
    user = fake.user(login)
    return {"login": user.login, "id": user.id, "type": user.type}


def installation_id(fake: FakeGitHub, repo: Repository) -> int:
    inst = fake.installation_for(repo)
    assert inst is not None
    return inst.id


def pull_request_payload(fake: FakeGitHub, action: str, pr: PullRequest) -> dict[str, Any]:
    """As GitHub sends it: the whole pull request object, as its REST API shows it."""
    url = fake.url or "http://127.0.0.1"
    return {
        "action": action,
        "number": pr.number,
        "pull_request": pull_json(Urls(api=url, html=url), fake, pr),
        "repository": repo_json(pr.repo),
        "installation": {"id": installation_id(fake, pr.repo)},
        "sender": user_json(fake, pr.user.login),
    }


def comment_payload(fake: FakeGitHub, pr: PullRequest, comment: IssueComment) -> dict[str, Any]:
    author = {"login": comment.user.login, "id": comment.user.id, "type": comment.user.type}
    return {
        "action": "created",
        "issue": {
            "number": pr.number,
            "state": pr.state,
            "title": pr.title,
            "user": user_json(fake, pr.user.login),
            "pull_request": {"url": f"{fake.url}/repos/{pr.repo.full_name}/pulls/{pr.number}", "merged_at": None},
        },
        "comment": {"id": comment.id, "body": comment.body, "user": author},
        "repository": repo_json(pr.repo),
        "installation": {"id": installation_id(fake, pr.repo)},
        "sender": author,
    }


def check_run_payload(fake: FakeGitHub, repo: Repository, run_id: int, with_pulls: bool = True) -> dict[str, Any]:
    """``with_pulls=False``: an empty ``pull_requests``, as GitHub sends for fork PRs."""
    run = fake.check_runs_by_id[run_id]
    pulls = []
    if with_pulls and run.external_id and run.external_id.isdigit():
        pulls = [{"number": int(run.external_id)}]
    return {
        "action": "rerequested",
        "check_run": {
            "id": run.id,
            "name": run.name,
            "head_sha": run.head_sha,
            "status": run.status,
            "external_id": run.external_id,
            "app": {"id": fake.app.id, "slug": fake.app.slug},
            "pull_requests": pulls,
        },
        "repository": repo_json(repo),
        "installation": {"id": installation_id(fake, repo)},
        "sender": {"login": "octocat", "id": 1, "type": "User"},
    }


@dataclass
class Bot:
    fake: FakeGitHub
    settings: Settings
    jobs: Jobs
    client: Any
    consumer: Any = None

    # -- sending ------------------------------------------------------------------------------
    def post(
        self,
        event: str,
        payload: dict[str, Any] | bytes,
        delivery: str | None = None,
        signature: str | None = "sign",
        headers: dict[str, str] | None = None,
    ):
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        sent = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        if signature == "sign":
            sent["X-Hub-Signature-256"] = signature_of(SECRET, body)
        elif signature is not None:
            sent["X-Hub-Signature-256"] = signature
        sent.update(headers or {})
        return self.client.post("/webhook", data=body, headers=sent)

    def pull_request_payload(self, action: str, pr: PullRequest) -> dict[str, Any]:
        return pull_request_payload(self.fake, action, pr)

    def comment_payload(self, pr: PullRequest, comment: IssueComment) -> dict[str, Any]:
        return comment_payload(self.fake, pr, comment)

    def check_run_payload(self, repo: Repository, run_id: int, with_pulls: bool = True) -> dict[str, Any]:
        return check_run_payload(self.fake, repo, run_id, with_pulls)

    def open(self, pr: PullRequest, action: str = "opened"):
        return self.post("pull_request", self.pull_request_payload(action, pr))

    # -- waiting --------------------------------------------------------------------------------
    def wait(self, timeout: float = 30.0) -> None:
        """Until the queue is empty, nothing is scheduled and no task runs."""
        huey = self.jobs.huey
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            busy = (
                huey.pending_count()
                or huey.scheduled_count()
                or huey._tasks_in_flight
                or self.jobs.store.journal_entries()
            )
            quiet = 0 if busy else quiet + 1
            if quiet >= 4:
                return
            time.sleep(0.05)
        raise AssertionError("the job queue did not drain in time")

    # -- reading back ---------------------------------------------------------------------------
    def reviews(self, repo: str, number: int):
        return [r for r in self.fake.reviews(repo, number) if r.user.login == f"{self.fake.app.slug}[bot]"]


# GitHub's pace (a second between writes, backoff from half a second, ten seconds for a
# write to settle) only slows the tests down; the logic is the same at any speed.
FAST = dict(
    workers=2,
    write_interval=0.01,
    retry_delay=0.2,
    github_backoff=0.01,
    github_timeout=5.0,
    write_settle=0.2,
    job_lease=5.0,
    rate_limit_max_wait=5.0,
    engine_seconds=30.0,
)

# The same as environment variables, for the App's own processes (worker, serve, gunicorn).
FAST_ENV = {
    "FOOTGUN_WRITE_INTERVAL": "0.01",
    "FOOTGUN_RETRY_DELAY": "0.2",
    "FOOTGUN_GITHUB_BACKOFF": "0.01",
    "FOOTGUN_GITHUB_TIMEOUT": "5",
    "FOOTGUN_WRITE_SETTLE": "0.2",
    "FOOTGUN_JOB_LEASE": "5",
    "FOOTGUN_RATE_LIMIT_MAX_WAIT": "5",
    "FOOTGUN_ENGINE_SECONDS": "30",
}


def make_settings(fake: FakeGitHub, data_dir: Path, redis_url: str | None = None, **overrides: Any) -> Settings:
    return Settings(
        webhook_secret=SECRET,
        app_id=fake.app.id,
        private_key=fake.app.private_key_pem,
        api_url=fake.url or "",
        data_dir=data_dir,
        redis_url=redis_url,
        **{**FAST, **overrides},
    )


def start_bot(
    fake: FakeGitHub,
    data_dir: Path,
    consume: bool = True,
    redis_url: str | None = None,
    workers: int = 2,
    **overrides: Any,
) -> Bot:
    settings = make_settings(fake, data_dir, redis_url, **overrides)
    jobs = Jobs(settings, build_router())
    bot = Bot(fake, settings, jobs, create_app(settings, jobs).test_client())
    if consume:
        bot.consumer = jobs.consumer(workers=workers, signals=False)
        bot.consumer.start()
    return bot


def stop_bot(bot: Bot) -> None:
    if bot.consumer is not None:
        bot.consumer.stop(graceful=True)
