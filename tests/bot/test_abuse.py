"""An attacker with a fork and an account: payloads built to crash the App or loop its
jobs, replays, command spam, manifest text written to be rendered as something else.
Each test is a reproduction against the fake GitHub."""

from __future__ import annotations

import json
import logging
import re
import sqlite3

import pytest

from .test_app_flow import DEPLOY, REPO, TYPO, open_typo, setup_repo


@pytest.fixture
def idle(fake_github, tmp_path):
    """The App without its worker: what the web process stores stays in the queue."""
    from .harness import start_bot, stop_bot

    running = start_bot(fake_github, tmp_path / "data", consume=False)
    setup_repo(fake_github)
    yield running
    stop_bot(running)


def nothing_stored(bot, delivery: str) -> bool:
    return (
        bot.jobs.huey.pending_count() == 0
        and not bot.jobs.store.journal_entries()
        and bot.jobs.store.remember_delivery(delivery)
    )


def _comment(bot, body):
    pr = open_typo(bot.fake)
    comment = bot.fake.add_issue_comment(REPO, pr.number, "alice", "/footgun recheck")
    payload = bot.comment_payload(pr, comment)
    payload["comment"]["body"] = body
    return payload


def _pull(bot, **changes):
    payload = bot.pull_request_payload("opened", open_typo(bot.fake))
    payload.update(changes)
    return payload


def checked(bot, changes, head="change"):
    """A pull request of ``changes`` in a new repository, analysed: it and its one
    check run."""
    setup_repo(bot.fake)
    pr = bot.fake.open_pull_request(REPO, head=head, user="alice", changes=changes)
    bot.open(pr)
    bot.wait()
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")
    return pr, run


def _deep(depth: int) -> bytes:
    return b'{"action": "opened", "x": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize(
    "event, make, reason",
    [
        ("pull_request", lambda bot: _pull(bot, repository=None), "`repository` is null, not an object"),
        ("pull_request", lambda bot: _pull(bot, action=["opened"]), "`action` is a list, not a string"),
        ("pull_request", lambda bot: _pull(bot, installation={"id": "12"}), "`installation.id` is a string"),
        (
            "pull_request",
            lambda bot: {**_pull(bot), "pull_request": {**_pull(bot)["pull_request"], "head": None}},
            "`pull_request.head` is null, not an object",
        ),
        ("issue_comment", lambda bot: _comment(bot, ["/footgun recheck"]), "`comment.body` is a list, not a string"),
        ("issue_comment", lambda bot: _comment(bot, {"text": "/footgun"}), "`comment.body` is an object"),
        ("pull_request", lambda bot: _deep(100), "nests JSON too deeply"),
        ("pull_request", lambda bot: _deep(100_000), "nests JSON too deeply"),
    ],
)
def test_a_signed_payload_of_the_wrong_shape_is_a_400_and_never_stored(idle, event, make, reason):
    payload = make(idle)
    answer = idle.post(event, payload, delivery="d-shape")
    assert answer.status_code == 400
    assert reason in answer.get_json()["error"]
    assert nothing_stored(idle, "d-shape")


@pytest.mark.parametrize("delivery", ["x" * 73, "a b", "a%0Ab", "../../etc", "<script>", "-leading-dash"])
def test_a_delivery_id_out_of_bounds_is_refused_before_it_is_stored_or_logged(idle, caplog, delivery):
    caplog.set_level(logging.INFO)
    payload = _pull(idle)
    answer = idle.post("pull_request", payload, delivery=delivery)
    assert answer.status_code == 400 and "X-GitHub-Delivery" in answer.get_json()["error"]
    assert nothing_stored(idle, delivery)
    assert delivery not in caplog.text
    assert idle.post("pull_request", payload, delivery="8b8a4c80-2f4e-11ef-9b5d-0e0f8a5c2b61").status_code == 202


@pytest.mark.parametrize("event", ["pull_request\u202e", "x" * 65, "Pull Request"])
def test_an_event_name_out_of_bounds_is_refused(idle, event):
    assert idle.post(event, _pull(idle), delivery="d-event").status_code == 400
    assert nothing_stored(idle, "d-event")


def test_the_same_body_under_new_delivery_ids_makes_one_check_run(bot):
    setup_repo(bot.fake)
    pr = open_typo(bot.fake)
    body = json.dumps(bot.pull_request_payload("opened", pr)).encode()
    answers = [bot.post("pull_request", body, delivery=f"replay-{n}").status_code for n in range(5)]
    assert answers == [202, 200, 200, 200, 200]
    assert bot.post("pull_request", body, delivery="replay-0").status_code == 200  # GitHub's own redelivery
    bot.wait()
    assert len(bot.fake.check_runs(REPO, pr.head_sha, "footgun")) == 1
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_stored_job_of_the_wrong_shape_is_dropped_not_retried(bot, caplog):
    """A job stored before payloads were checked (or by an older version) whose payload
    no handler can read: it ends at once with an error line."""
    setup_repo(bot.fake)
    pr = open_typo(bot.fake)
    payload = bot.pull_request_payload("opened", pr)
    payload["pull_request"]["head"] = "not an object"
    bot.jobs.store.accept(
        "d-old", {"name": "pull_request", "delivery": "d-old", "payload": payload}, 60, lambda: bot.jobs.task("d-old")
    )
    bot.wait()
    assert "job d-old dropped: `pull_request.head` is a string, not an object" in caplog.text
    assert bot.fake.check_runs(REPO) == []


def test_a_payload_no_job_can_read_is_dropped_at_once(bot, caplog):
    """A check run payload whose ``pull_requests`` lists numbers instead of objects
    passes the web's checks but names no pull request: the job ends on its first run."""
    setup_repo(bot.fake)
    pr = open_typo(bot.fake)
    bot.open(pr)
    bot.wait()
    [run] = bot.fake.check_runs(REPO, pr.head_sha, "footgun")
    payload = bot.check_run_payload(bot.fake.repos[REPO], run.id)
    payload["check_run"]["external_id"] = None
    payload["check_run"]["pull_requests"] = [pr.number]
    assert bot.post("check_run", payload, delivery="d-odd").status_code == 202
    bot.wait()
    assert "job d-odd dropped: its payload names no pull request" in caplog.text
    assert "failed" not in caplog.text and bot.jobs.store.journal_entries() == []


def test_an_error_before_the_job_is_claimed_counts_as_a_try(make_bot, caplog):
    """The store refuses the pull request's lock (a locked or unreachable store): the
    job is tried up to ``FOOTGUN_MAX_ATTEMPTS`` times, then dropped, never recovered
    and run again forever."""
    bot = make_bot(max_attempts=2)
    setup_repo(bot.fake)
    pr = open_typo(bot.fake)

    def refuse(*args, **kwargs):
        raise sqlite3.OperationalError("database is locked")

    bot.jobs.store.acquire = refuse
    assert bot.open(pr).status_code == 202
    bot.wait()
    assert "failed before it started (try 1 of 2)" in caplog.text
    assert "failed for good after 2 tries, before it could start" in caplog.text
    assert bot.jobs.store.journal_entries() == [] and bot.fake.check_runs(REPO) == []


# --- text from manifests ------------------------------------------------------------------------

HOSTILE_VALUE = (
    "x` @octocat [pwn](https://evil.example/a) <img src=x onerror=alert(1)> acme/web#1 #2 "
    "www.evil.example <!-- footgun:fp=0123456789abcdef --> ```` /footgun recheck"
)
FORGED = "0123456789abcdef"


def _rendered_text_outside_code(markdown: str) -> tuple[str, str]:
    """(the HTML CommonMark with GitHub's extensions renders, the text outside code in it)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("gfm-like", {"linkify": True})
    md.linkify.set({"fuzzy_link": False})
    html = md.render(markdown)
    outside = re.sub(r"<code>.*?</code>", "", html, flags=re.S)
    return html, outside


def assert_inert(text: str) -> None:
    from footgun.bot.review import fingerprints_in

    assert FORGED not in fingerprints_in(text)
    assert "<!-- footgun:fp=" + FORGED not in text
    html, outside = _rendered_text_outside_code(text)
    assert "<img" not in html and "onerror" not in re.sub(r"&lt;img src=x onerror", "", html)
    assert "evil.example" not in "".join(re.findall(r'<a href="[^"]*"', html))
    assert not re.search(r"(?<![\w\u200b])@[A-Za-z0-9]", outside)  # no live @mention
    assert not re.search(r"(?<![\w\u200b])#[0-9]", outside)  # no issue reference
    assert not re.search(r"(?i)\bwww\.[a-z]", outside)  # no GitHub autolink
    assert not any(line.lstrip().lower().startswith("/footgun") for line in text.splitlines())


def test_manifest_text_is_shown_inert_in_comments_reviews_and_check_runs(bot):
    fake = bot.fake
    setup_repo(fake)
    service = (
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\nspec:\n  selector:\n"
        f"    app: {json.dumps(HOSTILE_VALUE)}\n  ports:\n    - port: 80\n"
    )
    path = "k8s/a`b @octocat <!-- footgun:fp=0123456789abcdef -->.yaml"
    pr = fake.open_pull_request(
        REPO,
        head="hostile",
        user="alice",
        changes={"k8s/svc2.yaml": service, path: "apiVersion: v1\nkind: ConfigMap\nmetadata: [\n"},
    )
    bot.open(pr)
    bot.wait()
    [review] = bot.reviews(REPO, pr.number)
    comments = fake.review_comments(REPO, pr.number)
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    texts = [review.body, *(c.body for c in comments), run.output["summary"], run.output["title"]]
    assert any("octocat" in t for t in texts) and any("a`b" in t for t in texts)  # shown, not dropped
    for text in texts:
        assert_inert(text)


# --- honest conclusions ---------------------------------------------------------------------------

SERVICE_B = "apiVersion: v1\nkind: Service\nmetadata:\n  name: b\nspec:\n  type: ClusterIP\n  ports:\n    - port: 80\n"
SLOW = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: slow\ndata:\n  x: [" + ",".join(["1"] * 240_000) + "]\n"


@pytest.mark.parametrize(
    "settings, changes, reason",
    [
        ({"engine_memory_mb": 64}, {"data/slow.yaml": SLOW}, "the rule engine ran out of memory"),
        ({"engine_seconds": 0.3}, {"data/slow.yaml": SLOW}, "did not finish within"),
        ({}, {"k8s/broken.yaml": "apiVersion: v1\nkind: Service\nmetadata: [\n"}, "k8s/broken.yaml"),
        (
            {"max_files": 1},
            {"k8s/a.yaml": SERVICE_B, "k8s/b.yaml": SERVICE_B.replace("name: b", "name: c")},
            "over the App's budget",
        ),
    ],
)
def test_a_changed_manifest_not_judged_is_never_a_success(make_bot, settings, changes, reason):
    bot = make_bot(**settings)
    pr, run = checked(bot, changes, head="unjudged")
    assert run.status == "completed" and run.conclusion == "neutral"
    assert "judged" in run.output["title"] and "No footguns found" not in run.output["title"]
    assert run.output["summary"].startswith("**Not everything this pull request changes was judged**")
    assert reason in run.output["summary"]
    [review] = bot.reviews(REPO, pr.number)  # the review says the same
    assert "could not be scanned" in review.body and reason in review.body


# --- commands ---------------------------------------------------------------------------------------


def _app_reactions(fake, comment):
    return sorted(r.content for r in fake.reactions(comment.id) if r.user.login == "footgun[bot]")


def _app_replies(fake, number):
    return [c for c in fake.comments_on(REPO, number) if c.user.login == "footgun[bot]"]


def test_a_reader_repeating_recheck_gets_one_reaction_per_comment_and_one_reply(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fake.add_user("mallory")
    comments = [fake.add_issue_comment(REPO, pr.number, "mallory", "/footgun recheck") for _ in range(4)]
    for comment in comments:
        assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 202
    bot.wait()
    assert [_app_reactions(fake, c) for c in comments] == [["confused"]] * 4
    [reply] = _app_replies(fake, pr.number)
    assert "@mallory" in reply.body
    assert fake.check_runs(REPO) == []


def test_help_is_answered_once_per_pull_request(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fake.add_user("mallory")
    fake.add_user("eve")
    comments = [
        fake.add_issue_comment(REPO, pr.number, who, text)
        for who, text in [
            ("mallory", "/footgun help"),
            ("eve", "/footgun"),
            ("mallory", "/footgun x"),
            ("alice", "/footgun help"),
        ]
    ]
    for comment in comments:
        bot.post("issue_comment", bot.comment_payload(pr, comment))
        bot.wait()
    [reply] = _app_replies(fake, pr.number)
    assert "recheck" in reply.body
    assert [_app_reactions(fake, c) for c in comments[1:]] == [["eyes"]] * 3


def test_help_that_could_not_be_posted_is_posted_by_the_retry(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fault = fake.faults.server_error("POST", f"/repos/{REPO}/issues/*/comments", status=502, times=3)
    comment = fake.add_issue_comment(REPO, pr.number, "alice", "/footgun help")
    bot.post("issue_comment", bot.comment_payload(pr, comment))
    bot.wait()
    assert fault.hits == 3
    [reply] = _app_replies(fake, pr.number)
    assert "recheck" in reply.body


def test_a_burst_of_recheck_from_a_writer_is_one_run(make_bot):
    bot = make_bot(consume=False)
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    comments = [fake.add_issue_comment(REPO, pr.number, "alice", "/footgun recheck") for _ in range(5)]
    for comment in comments:
        assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 202
    bot.consumer = bot.jobs.consumer(workers=2, signals=False)
    bot.consumer.start()
    bot.wait()
    assert len(fake.check_runs(REPO, pr.head_sha, "footgun")) == 1
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert [_app_reactions(fake, c) for c in comments] == [["eyes"]] * 4 + [["eyes", "rocket"]]


def test_an_earlier_recheck_run_after_the_latest_has_finished_runs_nothing(make_bot):
    """The latest recheck may run first (the earlier one waiting for the pull
    request's lock): it covers the earlier one, which then runs nothing."""
    bot = make_bot(consume=False)
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    earlier, latest = (fake.add_issue_comment(REPO, pr.number, "alice", "/footgun recheck") for _ in range(2))
    for comment in (earlier, latest):
        assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 202
    job_of = {entry.data["payload"]["comment"]["id"]: entry.id for entry in bot.jobs.store.journal_entries()}
    bot.jobs._run(job_of[latest.id])
    bot.jobs._run(job_of[earlier.id])
    assert len(fake.check_runs(REPO, pr.head_sha, "footgun")) == 1
    assert [_app_reactions(fake, c) for c in (earlier, latest)] == [["eyes"], ["eyes", "rocket"]]


# --- when GitHub refuses or lags -------------------------------------------------------------------


def test_a_refused_check_run_is_said_in_a_comment_once_and_the_review_still_comes(bot):
    fake = bot.fake
    setup_repo(fake)
    fake.installation_for(fake.repo(REPO)).permissions.pop("checks")  # the owner unticked it
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    fake.push(REPO, pr.number, changes={"README.md": "# again\n"})
    bot.open(fake.pull_request(REPO, pr.number), "synchronize")
    bot.wait()
    [notice] = _app_replies(fake, pr.number)
    assert "Checks: read and write" in notice.body and "permission" in notice.body
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert fake.check_runs(REPO) == []


def test_a_check_run_whose_updates_keep_failing_is_replaced_by_a_completed_neutral_one(make_bot):
    bot = make_bot(max_attempts=2, github_retries=0)
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fake.faults.server_error("PATCH", f"/repos/{REPO}/check-runs/*", status=502, times=None)
    bot.open(pr)
    bot.wait()
    runs = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert len(runs) == 2
    newest = max(runs, key=lambda r: r.id)
    assert newest.status == "completed" and newest.conclusion == "neutral"
    assert "kept refusing the updates" in newest.output["summary"]
    assert bot.jobs.store.journal_entries() == []


def test_a_single_404_on_a_tree_right_after_a_push_is_retried(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fault = fake.faults.not_found("GET", f"/repos/{REPO}/git/trees/*", times=1)
    bot.open(pr)
    bot.wait()
    assert fault.hits == 1
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed" and run.conclusion == "failure" and "1 error" in run.output["title"]
    assert len(bot.reviews(REPO, pr.number)) == 1


# --- the configuration that judges ------------------------------------------------------------------


@pytest.mark.parametrize(
    "proposed",
    [
        'exclude: ["**"]\n',
        "rules:\n  service-selector-mismatch: false\n",
    ],
)
def test_a_pull_request_cannot_switch_off_the_rules_that_judge_it(bot, proposed):
    fake = bot.fake
    pr, run = checked(bot, {"k8s/svc.yaml": TYPO, ".footgun.yml": proposed}, head="sneaky")
    assert run.conclusion == "failure" and "1 error" in run.output["title"]
    note = "This pull request changes `.footgun.yml`; footgun judged it with the base branch's configuration"
    assert note in run.output["summary"]
    assert "1 finding would be hidden: `service-selector-mismatch` in `k8s/svc.yaml` line 6" in run.output["summary"]
    [review] = bot.reviews(REPO, pr.number)
    assert "### Configuration change" in review.body and "1 finding would be hidden" in review.body
    [comment] = fake.review_comments(REPO, pr.number)
    assert "service-selector-mismatch" in comment.body

    # Said once: a later push leaving the file as it is adds no review.
    fake.push(REPO, pr.number, changes={"README.md": "# again\n"})
    bot.open(fake.pull_request(REPO, pr.number), "synchronize")
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_a_proposed_configuration_that_does_not_load_is_said_and_the_base_one_judges(bot):
    pr, run = checked(bot, {"k8s/svc.yaml": TYPO, ".footgun.yml": "rules: [\n"}, head="broken")
    assert run.conclusion == "failure" and "1 error" in run.output["title"]
    assert "The proposed file does not load" in run.output["summary"]


# --- a Service left without pods ---------------------------------------------------------------------


def test_deleting_the_only_workload_a_service_selected_is_a_finding_on_the_change(bot):
    pr, run = checked(bot, {"k8s/deploy.yaml": None}, head="gone")
    assert run.conclusion == "failure" and "1 error (1 new)" in run.output["title"]
    [review] = bot.reviews(REPO, pr.number)
    assert (
        "Service api selected Deployment api at the merge base; this pull request deletes k8s/deploy.yaml"
        in review.body
    )
    assert "`k8s/svc.yaml`" in review.body and "service-selector-mismatch" in review.body


@pytest.mark.parametrize(
    "changes",
    [
        {"k8s/deploy.yaml": None, "k8s/svc.yaml": None},  # both go: nothing is left to break
        {"k8s/deploy.yaml": None, "k8s/deploy2.yaml": DEPLOY},  # moved: the Service still has its pods
    ],
)
def test_deleting_a_workload_that_leaves_no_service_empty_says_nothing(bot, changes):
    pr, run = checked(bot, changes, head="fine")
    assert run.conclusion == "success", run.output
    assert bot.reviews(REPO, pr.number) == []


def test_relabelling_the_only_workload_a_service_selected_is_a_finding_on_the_change(bot):
    pr, run = checked(bot, {"k8s/deploy.yaml": DEPLOY.replace("app: api", "app: web")}, head="relabel")
    assert run.conclusion == "failure"
    [review] = bot.reviews(REPO, pr.number)
    assert "service-selector-mismatch" in review.body and "k8s/svc.yaml" in review.body
