"""End to end: signed webhooks into the Flask app, jobs through the durable SQLite queue
and a real huey consumer, GitHub played by the fake over HTTP."""

from __future__ import annotations

import re
from pathlib import Path

from ruamel.yaml import YAML

from footgun.rules.engine import scan_files

REPO = "acme/shop"
MANIFEST = YAML(typ="safe").load(Path(__file__).resolve().parents[2].joinpath("app.yml").read_text())

DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
        - name: api
          image: example/api:1.0
          ports:
            - containerPort: 8080
"""

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
"""

TYPO = SERVICE.replace("app: api", "app: apii")


def setup_repo(fake, files=None):
    """The repository, with the App installed on it with exactly the permissions its
    manifest (app.yml) asks for."""
    fake.create_repo(
        REPO,
        files=files
        if files is not None
        else {"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE, "README.md": "# shop\n"},
    )
    fake.install("acme", repos=[REPO], permissions=MANIFEST["default_permissions"])
    fake.add_user("alice")
    fake.set_permission(REPO, "alice", "write")


def open_typo(fake, **kwargs):
    """A PR that puts a typo in the Service's selector."""
    return fake.open_pull_request(REPO, head="typo", user="alice", changes={"k8s/svc.yaml": TYPO}, **kwargs)


def typo_pr(bot, send: bool = True, **kwargs):
    """`open_typo` in a new repository, sent as "opened" and run unless ``send`` is false."""
    setup_repo(bot.fake)
    pr = open_typo(bot.fake, **kwargs)
    if send:
        assert bot.open(pr).status_code == 202
        bot.wait()
    return pr


def apply_suggestion(
    text: str,
    comment,
) -> str:
    """The file after clicking "Commit suggestion" on ``comment``."""
    match = re.search(r"(`{3,})suggestion\n(.*?)\n?\1", comment.body, re.S)
    assert match, comment.body
    replacement = match.group(2).split("\n") if match.group(2) else []
    lines = text.split("\n")
    start = (comment.start_line or comment.line) - 1
    return "\n".join(lines[:start] + replacement + lines[comment.line :])


def test_selector_typo_gets_one_review_whose_suggestion_fixes_it(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)

    answer = bot.open(pr)
    assert answer.status_code == 202
    bot.wait()

    reviews = bot.reviews(REPO, pr.number)
    assert len(reviews) == 1
    review = reviews[0]
    assert review.state == "COMMENTED" and review.commit_id == pr.head_sha
    comments = [c for c in fake.review_comments(REPO, pr.number) if c.review_id == review.id]
    assert len(comments) == 1
    comment = comments[0]
    assert (comment.path, comment.start_line, comment.line) == ("k8s/svc.yaml", 6, 7)
    assert "service-selector-mismatch" in comment.body

    fixed = apply_suggestion(TYPO, comment)
    result = scan_files({"k8s/deploy.yaml": DEPLOY.encode(), "k8s/svc.yaml": fixed.encode()})
    assert result.findings == []

    runs = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert len(runs) == 1
    run = runs[0]
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert [(a.path, a.start_line, a.title) for a in run.annotations] == [
        ("k8s/svc.yaml", 6, "service-selector-mismatch")
    ]
    assert "service-selector-mismatch" in run.output["summary"]


def test_redelivery_and_repeated_events_add_nothing(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    payload = bot.pull_request_payload("opened", pr)

    assert bot.post("pull_request", payload, delivery="d-1").status_code == 202
    bot.wait()
    again = bot.post("pull_request", payload, delivery="d-1")
    assert again.status_code == 200 and again.get_json() == {"duplicate": "d-1"}
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert len(fake.check_runs(REPO, pr.head_sha, "footgun")) == 1

    # Another delivery for the same head (GitHub sent "reopened"): nothing new to say.
    assert bot.open(pr, "reopened").status_code == 202
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert len(fake.review_comments(REPO, pr.number)) == 1


def test_synchronize_without_new_findings_posts_no_review(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    fake.push(REPO, pr.number, changes={"k8s/deploy.yaml": DEPLOY.replace("replicas: 2", "replicas: 3")})
    assert bot.open(pr, "synchronize").status_code == 202
    bot.wait()

    assert len(bot.reviews(REPO, pr.number)) == 1
    run = fake.check_runs(REPO, pr.head_sha, "footgun")[0]
    assert (run.status, run.conclusion) == ("completed", "failure")  # the finding is still there
    assert not any(t.is_resolved for t in fake.review_threads(REPO, pr.number))


def test_pushing_the_fix_resolves_the_thread(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    comment = fake.review_comments(REPO, pr.number)[0]
    fake.push(REPO, pr.number, changes={"k8s/svc.yaml": apply_suggestion(TYPO, comment)})
    bot.open(pr, "synchronize")
    bot.wait()

    threads = fake.review_threads(REPO, pr.number)
    assert [t.is_resolved for t in threads] == [True]
    assert len(bot.reviews(REPO, pr.number)) == 1
    run = fake.check_runs(REPO, pr.head_sha, "footgun")[0]
    assert run.conclusion == "success"


def test_a_thread_someone_replied_in_stays_open(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    comment = fake.review_comments(REPO, pr.number)[0]
    fake.reply_to_review_comment(REPO, pr.number, comment.id, "alice", "Good catch, fixing.")
    fake.push(REPO, pr.number, changes={"k8s/svc.yaml": SERVICE})
    bot.open(pr, "synchronize")
    bot.wait()
    assert [t.is_resolved for t in fake.review_threads(REPO, pr.number)] == [False]


def test_finding_outside_the_diff_goes_in_the_body(bot):
    fake = bot.fake
    setup_repo(fake)
    # The PR renames the pods' label; the unchanged Service no longer selects them.
    relabelled = DEPLOY.replace("app: api", "app: api-v2")
    pr = fake.open_pull_request(REPO, head="relabel", user="alice", changes={"k8s/deploy.yaml": relabelled})
    bot.open(pr)
    bot.wait()

    [review] = bot.reviews(REPO, pr.number)
    assert fake.review_comments(REPO, pr.number) == []
    assert "k8s/svc.yaml" in review.body and "service-selector-mismatch" in review.body
    assert "```yaml" in review.body and "```suggestion" not in review.body


def test_pull_request_without_manifests(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(REPO, head="docs", user="alice", changes={"README.md": "# shop\n\nDocs.\n"})
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert (run.status, run.conclusion) == ("completed", "success")


def test_clean_change_gets_a_success_check_and_no_review(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(
        REPO, head="scale", user="alice", changes={"k8s/deploy.yaml": DEPLOY.replace("replicas: 2", "replicas: 4")}
    )
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.conclusion == "success" and run.annotations == []


def test_draft_gets_the_check_run_and_the_review_when_ready(bot):
    fake = bot.fake
    pr = typo_pr(bot, draft=True)
    assert bot.reviews(REPO, pr.number) == []
    assert fake.check_runs(REPO, pr.head_sha, "footgun")[0].conclusion == "failure"

    pr.draft = False
    bot.open(pr, "ready_for_review")
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert len(fake.review_comments(REPO, pr.number)) == 1


def test_an_event_for_an_old_head_posts_no_review(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    old_head = pr.head_sha
    stale = bot.pull_request_payload("opened", pr)
    fake.push(REPO, pr.number, changes={"k8s/svc.yaml": SERVICE})
    bot.post("pull_request", stale)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []  # the head moved: read again before posting
    assert fake.check_runs(REPO, fake.pull_request(REPO, pr.number).head_sha) == []
    # The event's commit was analysed as it was: its check run tells of that commit only.
    [run] = fake.check_runs(REPO, old_head)
    assert run.conclusion == "failure" and run.annotations[0].path == "k8s/svc.yaml"


def test_an_event_read_later_reads_the_pull_request_again(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    stale = bot.pull_request_payload("opened", pr)
    fake.push(REPO, pr.number, changes={"k8s/svc.yaml": SERVICE})
    bot.fake.faults.server_error("POST", f"/repos/{REPO}/check-runs", status=502, times=1)
    bot.post("pull_request", stale)
    bot.wait()
    assert fake.check_runs(REPO) == []  # the second run read the pull request: its head had moved
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/{pr.number}") == 1


def test_rejected_inline_comments_move_into_the_body(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    fake.faults.add(
        "POST",
        "/repos/*/pulls/*/reviews",
        status=422,
        times=1,
        body={
            "message": "Unprocessable Entity",
            "errors": ["Line could not be resolved"],
            "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
        },
    )
    bot.open(pr)
    bot.wait()
    [review] = bot.reviews(REPO, pr.number)
    assert fake.review_comments(REPO, pr.number) == []
    assert "service-selector-mismatch" in review.body
    assert fake.requests.count("POST", f"/repos/{REPO}/pulls/{pr.number}/reviews") == 2


def test_fork_pull_request_is_read_through_the_base_repository(bot):
    fake = bot.fake
    setup_repo(fake)
    fake.fork(REPO, "mallory")
    pr = fake.open_pull_request(
        REPO, head="typo", head_repo="mallory/shop", user="mallory", changes={"k8s/svc.yaml": TYPO}
    )
    bot.open(pr)
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert not [r for r in fake.requests.all() if "/repos/mallory/" in r.path]


def test_rerun_requested_on_the_check(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    [first] = fake.check_runs(REPO, pr.head_sha, "footgun")

    answer = bot.post("check_run", bot.check_run_payload(pr.repo, first.id, with_pulls=False))
    assert answer.status_code == 202
    bot.wait()
    runs = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert len(runs) == 2 and all(r.conclusion == "failure" for r in runs)
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_check_runs_of_other_apps_are_ignored(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    payload = bot.check_run_payload(pr.repo, run.id)
    payload["check_run"]["app"]["id"] = 1
    assert bot.post("check_run", payload).status_code == 200
