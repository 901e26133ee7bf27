"""What one review costs in API calls: the merge base from ``compare``, annotations for
the pull request's own findings only, the App's slug without ``GET /app``, and no read of
earlier reviews when there is nothing to post."""

from __future__ import annotations

from footgun.bot.fetch import unapply_patch
from footgun.bot.github import GitHubApp

from .harness import installation_id
from .test_app_flow import DEPLOY, REPO, SERVICE, TYPO, open_typo, setup_repo, typo_pr


def test_compare_answers_the_merge_base_as_github_does(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    fork_point = fake.repo(REPO).branches["main"]
    base_tip = fake.commit(REPO, changes={"README.md": "moved on\n"}, branch="main")
    app = GitHubApp(fake.app.id, fake.app.private_key_pem, fake.url)
    inst = app.installation(installation_id(fake, fake.repo(REPO)))
    assert inst.merge_base(REPO, base_tip, pr.head_sha) == fork_point
    _, data = inst._request("GET", f"/repos/{REPO}/compare/{base_tip}...{pr.head_sha}")
    assert data["status"] == "diverged" and (data["ahead_by"], data["behind_by"]) == (1, 1)
    assert [f["filename"] for f in data["files"]] == ["k8s/svc.yaml"] and "patch" in data["files"][0]
    _, paged = inst._request("GET", f"/repos/{REPO}/compare/{base_tip}...{pr.head_sha}", params={"page": 2})
    assert "files" not in paged
    assert inst.merge_base(REPO, "0" * 40, pr.head_sha) == "0" * 40  # unknown: the base's tip


def test_annotations_are_the_pull_requests_findings(bot):
    fake = bot.fake
    setup_repo(fake)
    fake.commit(REPO, branch="main", changes={"k8s/other.yaml": TYPO.replace("name: api", "name: other", 1)})
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert [a.path for a in run.annotations] == ["k8s/svc.yaml"]
    assert "| 2 |" in run.output["summary"]  # the table counts the repository's findings
    assert fake.requests.count("GET", "/app") == 0


def test_nothing_to_say_reads_no_earlier_review(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = fake.open_pull_request(REPO, head="clean", user="alice", changes={"k8s/svc.yaml": SERVICE + "\n"})
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/reviews") == 0
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/comments") == 0


def test_a_finding_the_pull_request_caused_elsewhere_needs_no_read_of_the_merge_base(bot):
    fake = bot.fake
    # A Service already broken before the PR (not the PR's), and one the PR breaks.
    other = TYPO.replace("name: api", "name: legacy", 1)
    setup_repo(fake, files={"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE, "k8s/legacy.yaml": other})
    relabelled = DEPLOY.replace("app: api", "app: api-v2")
    pr = fake.open_pull_request(REPO, head="relabel", user="alice", changes={"k8s/deploy.yaml": relabelled})
    bot.open(pr)
    bot.wait()
    [review] = bot.reviews(REPO, pr.number)
    assert "k8s/svc.yaml" in review.body and "k8s/legacy.yaml" not in review.body
    assert fake.requests.count("GET", f"/repos/{REPO}/compare/*") == 1  # the files: the merge base came with them
    assert fake.requests.count("GET", f"/repos/{REPO}/git/trees/*") == 1  # the head's only


def test_the_merge_base_is_read_once_for_the_base_scan_and_the_emptied_service_check(bot):
    fake = bot.fake
    in_old = lambda text: text.replace("  name: api\n", "  name: api\n  namespace: old\n", 1)  # noqa: E731
    # In namespace "old", a Service already broken (a finding outside the change: the
    # merge base is scanned); in the default one, the PR deletes the Service's only
    # workload (the emptied-Service check); and it changes a file GitHub shows without a
    # patch, so neither can take the merge base from the patches.
    setup_repo(
        fake,
        files={
            "k8s/deploy.yaml": DEPLOY,
            "k8s/svc.yaml": SERVICE,
            "old/deploy.yaml": in_old(DEPLOY),
            "old/svc.yaml": in_old(TYPO),
            "k8s/notes.yaml": "# a\n" * 3100,
        },
    )
    pr = fake.open_pull_request(
        REPO, head="gone", user="alice", changes={"k8s/deploy.yaml": None, "k8s/notes.yaml": "# b\n" * 3100}
    )
    bot.open(pr)
    bot.wait()
    [review] = bot.reviews(REPO, pr.number)
    assert "this pull request deletes k8s/deploy.yaml" in review.body and "old/svc.yaml" not in review.body
    assert fake.requests.count("GET", f"/repos/{REPO}/git/trees/*") == 2  # the head's, and the merge base's once


def test_a_patch_taken_back_gives_the_file_before_it():
    import random

    from tests.fakegithub.diff import diff_trees
    from tests.fakegithub.gitobjects import blob_sha
    from tests.fakegithub.state import Limits

    rng = random.Random(7)
    checked = 0
    for _ in range(300):
        before = [f"line {rng.randint(0, 30)}" for _ in range(rng.randint(0, 40))]
        after = list(before)
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            if op < 0.4 and after:
                after[rng.randrange(len(after))] = f"changed {rng.randint(0, 9)}"
            elif op < 0.7:
                after.insert(rng.randint(0, len(after)), f"new {rng.randint(0, 9)}")
            elif after:
                del after[rng.randrange(len(after))]
        old = ("\n".join(before) + ("\n" if before and rng.random() < 0.7 else "")).encode()
        new = ("\n".join(after) + ("\n" if after and rng.random() < 0.7 else "")).encode()
        diffs = diff_trees(
            {"f": blob_sha(old)}, {"f": blob_sha(new)}, {blob_sha(old): old, blob_sha(new): new}, Limits().diff
        )
        if diffs and diffs[0].patch is not None:
            assert unapply_patch(new, diffs[0].patch) == old
            checked += 1
    assert checked > 200
    assert unapply_patch(b"a\nb\n", "@@ -1,2 +1,2 @@\n a\n-x\n+c") is None  # does not fit the text
    assert unapply_patch(b"a\n", None) is None


def test_a_cold_read_of_many_manifests_takes_the_archive(bot, monkeypatch):
    import footgun.bot.fetch as fetch

    monkeypatch.setattr(fetch, "TARBALL_MIN_FILES", 3)
    fake = bot.fake
    files = {f"k8s/svc-{n}.yaml": SERVICE.replace("name: api", f"name: api-{n}", 1) for n in range(6)}
    files.update({"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE, "README.md": "# shop\n"})
    setup_repo(fake, files=files)
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    assert fake.requests.count("GET", f"/repos/{REPO}/tarball/*") == 1
    assert fake.requests.count("POST", "/graphql") == 1  # the state read before posting; no blob
    [comment] = fake.review_comments(REPO, pr.number)
    assert "service-selector-mismatch" in comment.body


def test_an_archive_github_does_not_hand_over_falls_back_to_graphql(bot, monkeypatch):
    import footgun.bot.fetch as fetch

    monkeypatch.setattr(fetch, "TARBALL_MIN_FILES", 2)
    fake = bot.fake
    setup_repo(fake)
    fake.faults.server_error("GET", f"/repos/{REPO}/tarball/*", status=502, times=None)
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    assert fake.requests.count("GET", f"/repos/{REPO}/tarball/*") == 1  # not retried
    [comment] = fake.review_comments(REPO, pr.number)
    assert "service-selector-mismatch" in comment.body


def test_a_push_changing_one_file_downloads_no_blob(bot):
    fake = bot.fake
    setup_repo(fake)
    relabelled = DEPLOY.replace("app: api", "app: api-v2")
    pr = fake.open_pull_request(
        REPO,
        head="relabel",
        user="alice",
        changes={"k8s/deploy.yaml": relabelled, "k8s/new.yaml": TYPO.replace("name: api", "name: n", 1)},
    )
    bot.open(pr)
    bot.wait()
    fake.push(
        REPO,
        pr.number,
        changes={
            "k8s/deploy.yaml": relabelled.replace("replicas:", "minReadySeconds: 5\n  replicas:", 1),
            "k8s/new.yaml": TYPO.replace("name: api", "name: m", 1),
        },
    )
    pr = fake.pull_request(REPO, pr.number)
    fake.requests.clear()
    bot.open(pr, action="synchronize")
    bot.wait()
    assert fake.requests.count("GET", f"/repos/{REPO}/git/blobs/*") == 0
    graphql = fake.requests.filter("POST", "/graphql")
    assert all(not (r.graphql or {}).get("object_lookups") for r in graphql)  # no blob read
    assert len(bot.reviews(REPO, pr.number)) == 2  # the renamed Service is a new finding


def test_a_patch_applies_to_the_text_before_it():
    from footgun.bot.fetch import apply_patch

    assert apply_patch(b"a\nb\n", "@@ -1,2 +1,2 @@\n a\n-b\n+c") == b"a\nc\n"
    assert apply_patch(b"", "@@ -0,0 +1,2 @@\n+x\n+y") == b"x\ny\n"
    assert apply_patch(b"a\nz\n", "@@ -1,2 +1,2 @@\n a\n-b\n+c") is None


def test_a_first_run_takes_the_pull_request_from_the_event_and_creates_its_check_run(bot):
    fake = bot.fake
    pr = typo_pr(bot)
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/{pr.number}") == 0
    assert fake.requests.count("GET", f"/repos/{REPO}/commits/*/check-runs") == 0  # nothing to find yet
    assert fake.requests.count("GET", f"/repos/{REPO}/compare/*") == 1
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/files") == 0


def test_a_run_after_a_failure_reads_again_and_finishes_the_check_run_it_started(bot):
    fake = bot.fake
    fake.faults.server_error("GET", f"/repos/{REPO}/git/trees/*", status=502, times=6)  # past in-place retries
    pr = typo_pr(bot)
    assert len(bot.reviews(REPO, pr.number)) == 1
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed"
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/{pr.number}") == 1  # the second run's
    assert fake.requests.count("GET", f"/repos/{REPO}/commits/*/check-runs") == 1


def test_a_pull_request_of_150_files_is_read_in_one_comparison(bot):
    fake = bot.fake
    setup_repo(fake)
    changes = {f"k8s/many/svc-{i}.yaml": SERVICE.replace("name: api", f"name: api-{i}", 1) for i in range(150)}
    pr = fake.open_pull_request(REPO, head="many", user="alice", changes=changes)
    bot.open(pr)
    bot.wait()
    assert fake.requests.count("GET", f"/repos/{REPO}/compare/*") == 1
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/files") == 0


def test_a_comparison_that_disagrees_with_the_pull_requests_count_is_not_used(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False)
    payload = bot.pull_request_payload("opened", pr)
    payload["pull_request"]["changed_files"] = 2  # GitHub's count and its comparison differ
    bot.post("pull_request", payload)
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert fake.requests.count("GET", f"/repos/{REPO}/pulls/*/files") == 1
