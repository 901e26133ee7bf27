"""Hostile or huge input: webhook bodies, logs that must not leak, manifests built to hurt
the parser, and pull requests or repositories larger than one analysis may read."""

from __future__ import annotations

import io
import json
import logging
import re
import time

import pytest

from footgun.bot.logs import configure_logging

from .harness import SECRET
from .test_app_flow import DEPLOY, REPO, SERVICE, TYPO, open_typo, setup_repo
from .test_ordering import NODE_PORT

# Near the engine's node limit: well over half a second and a hundred MB to read.
SLOW = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow-{n}\ndata:\n  x: [" + ",".join(["1"] * 240_000) + "]\n"
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{n}\ndata:\n  key: value-{n}\n"


# --- logs --------------------------------------------------------------------------------------


@pytest.fixture
def captured_logs():
    """footgun's own log handler, at DEBUG (PyGithub then logs every request and answer),
    writing to a buffer; put back as it was afterwards."""
    root = logging.getLogger()
    level = root.level
    buffers = {}

    def capture(fmt: str = "text") -> io.StringIO:
        buffers[fmt] = io.StringIO()
        configure_logging(logging.DEBUG, fmt, stream=buffers[fmt], force=True)
        return buffers[fmt]

    yield capture
    for handler in [h for h in root.handlers if h.get_name() == "footgun"]:
        root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_logs_are_one_line_per_event_with_the_delivery_and_no_secret(bot, captured_logs, fmt):
    out = captured_logs(fmt)
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fake.faults.expired_token("GET", f"/repos/{REPO}/compare/*")  # a token refreshed on the way
    assert bot.post("pull_request", bot.pull_request_payload("opened", pr), delivery="d-log-1").status_code == 202
    assert bot.post("pull_request", b'{"a": 1}', delivery="d-forged", signature="sha256=" + "0" * 64).status_code == 401
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    text = out.getvalue()
    lines = text.splitlines()
    assert len(lines) > 20

    # Nothing secret: the webhook secret, the App's key, a JWT, an installation token.
    tokens = list(fake.tokens)
    assert len(tokens) == 2
    for secret in [SECRET, *tokens, *fake.app.private_key_pem.strip().splitlines()[1:-1]]:
        assert secret not in text
    assert not re.search(r"eyJ[\w-]{8,}\.[\w-]{8,}\.", text)
    assert "[token removed]" in text  # PyGithub's DEBUG line with the token's answer, scrubbed

    # One line per record, each naming its delivery.
    if fmt == "json":
        records = [json.loads(line) for line in lines]
        ours = [r for r in records if r["delivery"] == "d-log-1"]
        assert {"ts", "level", "logger", "delivery", "msg"} <= set(records[0])
        messages = [r["msg"] for r in ours]
    else:
        assert all(
            re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [A-Z]+ \S+ delivery=\S+ ", line) for line in lines
        ), [line for line in lines if not re.match(r"\d{4}-", line)][:3]
        messages = [line for line in lines if " delivery=d-log-1 " in line]
    assert any("pull_request.opened acme/shop queued" in m for m in messages)
    assert any("pull_request.opened acme/shop done" in m for m in messages)
    assert any("getting a new one" in m for m in messages)  # the token refresh, under the delivery
    forged = [line for line in lines if "d-forged" in line]
    assert len(forged) == 1 and "refused" in forged[0]


def test_no_log_line_at_debug_carries_the_token_of_an_archive_download(bot, captured_logs):
    """Past 500 files the App downloads the commit's archive, from a URL whose query
    carries a short-lived token; urllib3 logs that URL at DEBUG."""
    out = captured_logs("text")
    fake = bot.fake
    setup_repo(
        fake,
        files={
            "k8s/deploy.yaml": DEPLOY,
            "k8s/svc.yaml": SERVICE,
            **{f"cm/cm-{n}.yaml": CONFIG_MAP.format(n=n) for n in range(600)},
        },
    )
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    text = out.getvalue()
    assert "/_codeload/" in text and "token=[removed]" in text  # the line is there, scrubbed
    assert fake.archive_tokens and not any(token in text for token in fake.archive_tokens)
    assert not any(token in text for token in fake.tokens)


# --- manifests -----------------------------------------------------------------------------------


def _alias_bomb() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n" + "\n".join(lines) + "\n"


HOSTILE = {
    "k8s/huge.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: "
    + "x" * 1_200_000
    + "\n",
    "k8s/bomb.yaml": _alias_bomb(),
    "k8s/deep.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata: {a: "
    + "[" * 10_000
    + "]" * 10_000
    + "}\n",
    "k8s/binary.yaml": bytes(range(256)) * 64,
    "k8s/latin1.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: caf\xe9\n".encode("latin-1"),
}
REASONS = {
    "k8s/huge.yaml": "over the 1,048,576-byte limit",
    "k8s/bomb.yaml": "aliases are expanded",
    "k8s/deep.yaml": "nesting deeper than",
    "k8s/binary.yaml": "binary file",
    "k8s/latin1.yaml": "not UTF-8 text",
}


def test_hostile_manifests_are_skipped_with_a_reason_in_the_review(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(REPO, head="hostile", user="alice", changes=HOSTILE)
    started = time.monotonic()
    assert bot.open(pr).status_code == 202
    bot.wait(timeout=60)
    elapsed = time.monotonic() - started
    [review] = bot.reviews(REPO, pr.number)
    assert review.body.startswith("**footgun**: nothing new found, but part of this pull request could not be scanned")
    for path, reason in REASONS.items():
        line = next((line for line in review.body.splitlines() if f"`{path}`" in line), "")
        assert reason in line, (path, line)
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed" and all(path in run.output["summary"] for path in REASONS)
    print(f"hostile manifests analysed in {elapsed:.2f} s")

    # Named once: a later push that leaves them as they are adds no review.
    fake.push(REPO, pr.number, changes={"README.md": "# shop, again\n"})
    pr = fake.pull_request(REPO, pr.number)
    assert bot.post("pull_request", bot.pull_request_payload("synchronize", pr)).status_code == 202
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_helm_templates_alone_make_no_review(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(
        REPO,
        head="chart",
        user="alice",
        changes={"chart/templates/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"},
    )
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert "chart/templates/svc.yaml" in run.output["summary"]


def test_an_engine_out_of_time_scans_the_pull_requests_own_files_and_says_so(make_bot):
    """Three context files the engine takes well over a second to read (near its node
    limit), a budget of one second: the context is dropped, the PR's file is scanned
    alone in the time kept for it, and the review says what was not checked."""
    bot = make_bot(engine_seconds=1.0)
    fake = bot.fake
    setup_repo(
        fake,
        files={
            "k8s/deploy.yaml": DEPLOY,
            "k8s/svc.yaml": SERVICE,
            **{f"data/slow{n}.yaml": SLOW.format(n=n) for n in range(3)},
        },
    )
    pr = fake.open_pull_request(REPO, head="np", user="alice", changes={"k8s/np.yaml": NODE_PORT})
    bot.open(pr)
    bot.wait()
    [review] = bot.reviews(REPO, pr.number)
    assert (
        "did not finish within 0.75 s over 6 manifests: only the 1 this pull request changes were "
        "scanned, without the rest of the repository as context" in review.body
    )
    [comment] = fake.review_comments(REPO, pr.number)  # scanned alone, its own footgun is still found
    assert "hardcoded-node-port" in comment.body


def test_an_engine_out_of_memory_reports_the_files_as_not_scanned(make_bot):
    bot = make_bot(engine_memory_mb=64)
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(REPO, head="slow", user="alice", changes={"data/slow.yaml": SLOW.format(n=0)})
    bot.open(pr)
    bot.wait()
    [review] = bot.reviews(REPO, pr.number)
    assert (
        "the rule engine ran out of memory (limit 64 MB): none of the 1 manifests it changes could be "
        "scanned" in review.body
    )
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed" and "ran out of memory" in run.output["summary"]


@pytest.mark.slow
def test_a_pull_request_of_3000_files_gets_a_partial_review_that_says_so(make_bot):
    bot = make_bot(max_files=1000)
    fake = bot.fake
    setup_repo(fake)
    changes = {"k8s/svc.yaml": TYPO, **{f"z/cm-{n:04d}.yaml": CONFIG_MAP.format(n=n) for n in range(2999)}}
    pr = fake.open_pull_request(REPO, head="big", user="alice", changes=changes)
    started = time.monotonic()
    bot.open(pr)
    bot.wait(timeout=120)
    elapsed = time.monotonic() - started
    [review] = bot.reviews(REPO, pr.number)
    assert "2,001 of the 3,000 manifests it changes were not scanned" in review.body  # one place kept for context
    assert "over the App's budget of 1,000 files" in review.body
    [comment] = fake.review_comments(REPO, pr.number)
    assert "service-selector-mismatch" in comment.body and comment.path == "k8s/svc.yaml"
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed"
    print(f"3,000-file pull request analysed in {elapsed:.2f} s")


@pytest.mark.slow
def test_a_repository_of_50000_manifests_gets_a_partial_review_that_says_so(make_bot):
    bot = make_bot(max_files=500)
    fake = bot.fake
    files = {
        "k8s/deploy.yaml": DEPLOY,
        "k8s/svc.yaml": SERVICE,
        **{f"teams/t{n % 100:02d}/app{n}.yaml": CONFIG_MAP.format(n=n) for n in range(49_998)},
    }
    setup_repo(fake, files=files)
    pr = open_typo(fake)
    started = time.monotonic()
    bot.open(pr)
    bot.wait(timeout=120)
    elapsed = time.monotonic() - started
    [review] = bot.reviews(REPO, pr.number)
    assert "### Partial review" in review.body
    assert re.search(
        r"the repository has [\d,]+ other manifests: the 499 nearest to the changed files were read", review.body
    )
    [comment] = fake.review_comments(REPO, pr.number)
    assert "service-selector-mismatch" in comment.body  # its Deployment, next to it, was read
    graphql = fake.requests.count("POST", "/graphql")
    assert graphql <= 15  # 500 files, 50 a query (and the threads query)
    print(f"50,000-manifest repository analysed in {elapsed:.2f} s")


# --- the web process ---------------------------------------------------------------------------


def test_gunicorn_refuses_to_start_without_a_webhook_secret(fake_github, tmp_path):
    import subprocess
    import sys

    from .procs import ROOT, app_env, free_port

    env = app_env(fake_github, tmp_path / "data")
    env.pop("GITHUB_WEBHOOK_SECRET")
    done = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{free_port()}", "footgun.bot.app:create_app()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "GITHUB_WEBHOOK_SECRET is not set" in done.stdout + done.stderr
