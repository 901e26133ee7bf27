"""Several deliveries for one pull request: one review per head, runs one at a time, and a
run for an older head never posting after a newer one."""

from __future__ import annotations

from .procs import until
from .test_app_flow import REPO, typo_pr

NODE_PORT = """apiVersion: v1
kind: Service
metadata:
  name: api-np
spec:
  type: NodePort
  selector:
    app: api
  ports:
    - port: 80
      targetPort: 8080
      nodePort: 30080
"""


def _comments_by_rule(bot, number):
    out: dict[str, int] = {}
    for comment in bot.fake.review_comments(REPO, number):
        for rule in ("service-selector-mismatch", "hardcoded-node-port"):
            if rule in comment.body:
                out[rule] = out.get(rule, 0) + 1
    return out


def test_opened_and_its_redelivery_give_one_review(bot):
    pr = typo_pr(bot, send=False)
    payload = bot.pull_request_payload("opened", pr)
    assert bot.post("pull_request", payload, delivery="same").status_code == 202
    assert bot.post("pull_request", payload, delivery="same").status_code == 200  # GitHub's "Redeliver"
    assert bot.post("pull_request", payload).status_code == 200  # the same body under a new id: a copy
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_synchronize_and_a_rerun_of_the_check_give_one_review_for_the_new_head(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    head = fake.push(REPO, pr.number, changes={"k8s/np.yaml": NODE_PORT})
    pr = fake.pull_request(REPO, pr.number)
    assert bot.post("pull_request", bot.pull_request_payload("synchronize", pr)).status_code == 202
    assert bot.post("check_run", bot.check_run_payload(fake.repo(REPO), run.id)).status_code == 202
    bot.wait()
    reviews = bot.reviews(REPO, pr.number)
    assert [r.commit_id for r in reviews][1:] == [head]  # one review for the new head
    assert _comments_by_rule(bot, pr.number) == {"service-selector-mismatch": 1, "hardcoded-node-port": 1}


def test_a_late_delivery_for_an_older_head_posts_nothing(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    stale = bot.pull_request_payload("opened", pr)  # delayed somewhere on the way
    head = fake.push(REPO, pr.number, changes={"k8s/np.yaml": NODE_PORT})
    pr = fake.pull_request(REPO, pr.number)
    assert bot.post("pull_request", bot.pull_request_payload("synchronize", pr)).status_code == 202
    bot.wait()
    [run] = fake.check_runs(REPO, head, "footgun")
    updates = run.updates
    assert bot.post("pull_request", stale).status_code == 202
    bot.wait()
    assert [r.commit_id for r in bot.reviews(REPO, pr.number)] == [head]
    assert fake.check_runs(REPO, head, "footgun") == [run] and run.updates == updates  # the head's: untouched


def test_a_run_overtaken_by_a_push_leaves_the_review_to_the_newer_run(bot):
    """The run for the first head is slow (its tree read is held); meanwhile the author
    pushes and the synchronize waits for the pull request's lock. The slow run sees the
    head moved before posting and posts nothing; the newer run posts the review."""
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    first_head = pr.head_sha
    held = fake.faults.hang("GET", f"/repos/{REPO}/git/trees/{first_head}", seconds=1.5)
    assert bot.open(pr).status_code == 202
    until(lambda: held.hits == 1, what="the first run to be reading")
    head = fake.push(REPO, pr.number, changes={"k8s/np.yaml": NODE_PORT})
    pr = fake.pull_request(REPO, pr.number)
    assert bot.post("pull_request", bot.pull_request_payload("synchronize", pr)).status_code == 202
    bot.wait()
    reviews = bot.reviews(REPO, pr.number)
    assert [r.commit_id for r in reviews] == [head]
    assert _comments_by_rule(bot, pr.number) == {"service-selector-mismatch": 1, "hardcoded-node-port": 1}
    # The runs did not overlap: the newer one read its files only after the older one ended.
    reads = fake.requests.filter("GET", f"/repos/{REPO}/compare/*")
    slow_end = next(r for r in fake.requests.all() if r.fault == "hang").started + 1.5
    assert sum(1 for r in reads if r.started < slow_end) == 1  # the slow run's only


def test_a_pull_request_closed_while_its_run_reads_gets_no_review(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    held = fake.faults.hang("GET", f"/repos/{REPO}/git/trees/{pr.head_sha}", seconds=1.0)
    assert bot.open(pr).status_code == 202
    until(lambda: held.hits == 1, what="the run to be reading")
    fake.close_pull_request(REPO, pr.number)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed"  # the commit's check run still says what it found
