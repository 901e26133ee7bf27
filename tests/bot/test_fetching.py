"""How the job reads a pull request: the repository's configuration from the base branch,
blobs through GraphQL with the REST fallback, the blob cache, annotations in batches."""

from __future__ import annotations

from footgun.rules.engine import scan_files

from .test_app_flow import DEPLOY, REPO, SERVICE, TYPO, open_typo, setup_repo

INGRESS = """apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web-{n}
spec:
  ingressClassName: nginx
  rules:
    - host: web-{n}.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: api
                port:
                  number: 80
"""


def test_the_base_branchs_configuration_applies(bot):
    fake = bot.fake
    setup_repo(fake)
    fake.commit(REPO, changes={".footgun.yml": "rules:\n  service-selector-mismatch: false\n"}, branch="main")
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    assert fake.check_runs(REPO, pr.head_sha, "footgun")[0].conclusion == "success"


def test_an_invalid_configuration_fails_the_check_and_says_why(bot):
    fake = bot.fake
    setup_repo(fake)
    fake.commit(REPO, changes={".footgun.yml": "fail_levle: error\n"}, branch="main")
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    assert bot.reviews(REPO, pr.number) == []
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.conclusion == "failure" and "fail_levle" in run.output["summary"]


def test_blobs_graphql_cuts_short_come_from_rest(bot):
    fake = bot.fake
    fake.limits.blob_text_max = 64
    setup_repo(fake)
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert fake.requests.count("GET", f"/repos/{REPO}/git/blobs/*") == 2  # the two manifests


def test_blobs_are_read_once(bot):
    fake = bot.fake
    setup_repo(fake)
    pr = open_typo(fake)
    bot.open(pr)
    bot.wait()
    before = fake.requests.count("POST", "/graphql")
    comment = fake.add_issue_comment(REPO, pr.number, "alice", "/footgun recheck")
    bot.post("issue_comment", bot.comment_payload(pr, comment))
    bot.wait()
    assert fake.requests.count("POST", "/graphql") - before == 1  # the review threads; no blob


def test_annotations_go_fifty_a_request(bot):
    fake = bot.fake
    setup_repo(fake)
    ingresses = "---\n".join(INGRESS.format(n=n) for n in range(60))
    pr = fake.open_pull_request(REPO, head="web", user="alice", changes={"k8s/ingress.yaml": ingresses})
    bot.open(pr)
    bot.wait()
    expected = scan_files(
        {"k8s/deploy.yaml": DEPLOY.encode(), "k8s/svc.yaml": SERVICE.encode(), "k8s/ingress.yaml": ingresses.encode()}
    ).findings
    assert len(expected) >= 60
    [run] = fake.check_runs(REPO, pr.head_sha, "footgun")
    assert run.status == "completed" and len(run.annotations) == len(expected)
    patches = fake.requests.count("PATCH", f"/repos/{REPO}/check-runs/{run.id}")
    assert patches == -(-len(expected) // 50)
    created = fake.requests.filter("POST", f"/repos/{REPO}/check-runs")
    assert len(created) == 1


def test_an_overlay_that_builds_the_changed_file_is_read_before_nearer_files(make_bot):
    """The budget reads the changed Service's deployment unit (the overlay in another
    folder that builds it, and its Deployment) before the files beside it."""
    bot = make_bot(max_files=8)
    config_map = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{n}\ndata:\n  key: value\n"
    files = {
        "apps/api/kustomization.yaml": "resources:\n  - svc.yaml\n",
        "apps/api/svc.yaml": SERVICE,
        "deploy/prod/kustomization.yaml": "resources:\n  - ../../apps/api\n  - api.yaml\n",
        "deploy/prod/api.yaml": DEPLOY,
        **{f"apps/api/cm-{n:02d}.yaml": config_map.format(n=n) for n in range(20)},
    }
    setup_repo(bot.fake, files=files)
    pr = bot.fake.open_pull_request(REPO, head="typo", user="alice", changes={"apps/api/svc.yaml": TYPO})
    bot.open(pr)
    bot.wait()
    [comment] = bot.fake.review_comments(REPO, pr.number)
    assert "service-selector-mismatch" in comment.body and "Deployment api" in comment.body
