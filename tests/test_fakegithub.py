"""Tests of the fake GitHub (tests/fakegithub), used the way the App uses GitHub:
through PyGithub over real HTTP. They fail if the fake stops behaving like GitHub
where the App depends on it."""

from __future__ import annotations

import base64
import importlib.util
import io
import subprocess
import tarfile
import time
from pathlib import Path

import jwt
import pytest
import requests
import urllib3
from github import Auth, Github, GithubException, GithubIntegration, GithubRetry
from github.GithubException import BadCredentialsException, RateLimitExceededException, UnknownObjectException

from tests.bot.procs import until
from tests.fakegithub import FakeGitHub, FakeGitHubServer
from tests.fakegithub.auth import generate_key_pair
from tests.fakegithub.gitobjects import blob_sha

pytest_plugins = ["tests.fakegithub.fixtures"]

needs_graphql = pytest.mark.skipif(
    importlib.util.find_spec("graphql") is None, reason="graphql-core is not installed (it belongs in the test extras)"
)

SERVICE = """apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: prod
spec:
  selector:
    app: web
  ports:
  - port: 80
    targetPort: 8080
"""

DEPLOY = "".join(f"line {i}\n" for i in range(1, 41))


def _deploy_changed() -> str:
    lines = DEPLOY.splitlines(keepends=True)
    lines[4] = "line 5 changed\n"  # hunk 1 around line 5
    lines[29] = "line 30 changed\n"  # hunk 2 around line 30
    return "".join(lines)


@pytest.fixture
def world(fake_github: FakeGitHub):
    """acme/web with a Service and a 40-line file; PR #1 changes both."""
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    fake.commit(
        "acme/web", changes={"k8s/svc.yaml": SERVICE, "k8s/deploy.txt": DEPLOY, "old.txt": "bye\n"}, branch="main"
    )
    fake.add_user("alice")
    fake.set_permission("acme/web", "alice", "write")
    pr = fake.open_pull_request(
        "acme/web",
        head="fix",
        user="alice",
        changes={
            "k8s/svc.yaml": SERVICE.replace("app: web", "app: api"),
            "k8s/deploy.txt": _deploy_changed(),
            "old.txt": None,
            "new.yaml": "a: 1\n",
        },
    )
    return fake, inst, pr


# PyGithub paces requests by default (0.25 s between requests, 1 s between writes).
FAST = {"seconds_between_requests": 0, "seconds_between_writes": 0}


def installation_client(fake: FakeGitHub, inst, **kw) -> Github:
    auth = Auth.AppAuth(fake.app.id, fake.app.private_key_pem).get_installation_auth(inst.id)
    kw.setdefault("retry", None)
    return Github(base_url=fake.url, auth=auth, **FAST, **kw)


def token_for(fake: FakeGitHub, inst) -> str:
    gi = GithubIntegration(auth=Auth.AppAuth(fake.app.id, fake.app.private_key_pem), base_url=fake.url)
    return gi.get_access_token(inst.id).token


def raw(fake: FakeGitHub, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
    headers = kw.pop("headers", {})
    if token:
        headers["Authorization"] = f"token {token}"
    return requests.request(method, fake.url + path, headers=headers, timeout=10, **kw)


# --------------------------------------------------------------------------- auth


def test_app_jwt_gives_installation_token_and_client(world):
    fake, inst, _ = world
    gi = GithubIntegration(auth=Auth.AppAuth(fake.app.id, fake.app.private_key_pem), base_url=fake.url)
    assert gi.get_app().slug == "footgun"
    assert [i.id for i in gi.get_installations()] == [inst.id]
    assert gi.get_repo_installation("acme", "web").id == inst.id
    token = gi.get_access_token(inst.id)
    assert token.token.startswith("ghs_") and len(token.token) == 40
    assert 3500 < (token.expires_at.timestamp() - time.time()) <= 3600
    g = installation_client(fake, inst)
    assert g.get_repo("acme/web").get_pull(1).user.login == "alice"


def _jwt(fake: FakeGitHub, key: str | None = None, **claims) -> str:
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 300, "iss": str(fake.app.id)}
    payload.update(claims)
    return jwt.encode(payload, key or fake.app.private_key_pem, algorithm="RS256")


@pytest.mark.parametrize(
    "case, message",
    [
        ("other key", "A JSON web token could not be decoded"),
        ("wrong iss", "A JSON web token could not be decoded"),
        ("garbage", "A JSON web token could not be decoded"),
        (
            "expired",
            "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
        ),
        ("exp too far", "'Expiration time' claim ('exp') is too far in the future"),
        ("lifetime over 10 minutes", "'Expiration time' claim ('exp') is too far in the future"),
        (
            "iat in future",
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        ),
    ],
)
def test_bad_app_jwt_is_refused_with_githubs_message(fake_github, case, message):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    now = int(time.time())
    token = {
        "other key": lambda: _jwt(fake, key=generate_key_pair()[0]),
        "wrong iss": lambda: _jwt(fake, iss="999"),
        "garbage": lambda: "not.a.jwt",
        "expired": lambda: _jwt(fake, iat=now - 700, exp=now - 10),
        "exp too far": lambda: _jwt(fake, iat=now, exp=now + 660),
        "lifetime over 10 minutes": lambda: _jwt(fake, iat=now - 3000, exp=now + 300),
        "iat in future": lambda: _jwt(fake, iat=now + 300, exp=now + 500),
    }[case]()
    resp = raw(
        fake, "POST", f"/app/installations/{inst.id}/access_tokens", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 401
    assert resp.json()["message"] == message
    assert not fake.tokens


def test_valid_jwt_at_githubs_documented_limits_is_accepted(fake_github):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    now = int(time.time())
    token = _jwt(fake, iat=now - 60, exp=now + 595)  # the docs' own example: iat-60s, exp+10min
    resp = raw(
        fake, "POST", f"/app/installations/{inst.id}/access_tokens", headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 201, resp.text
    assert set(resp.json()) >= {"token", "expires_at", "permissions"}


def test_app_endpoints_refuse_installation_tokens_and_vice_versa(world):
    fake, inst, _ = world
    token = token_for(fake, inst)
    assert raw(fake, "GET", "/app", token).status_code == 401
    app_jwt = _jwt(fake)
    resp = raw(fake, "GET", "/repos/acme/web", headers={"Authorization": f"Bearer {app_jwt}"})
    assert resp.status_code == 401 and resp.json()["message"] == "Bad credentials"
    assert raw(fake, "GET", "/repos/acme/web").json()["message"] == "Requires authentication"


def test_installation_token_checks(world):
    fake, inst, _ = world
    g = Github(base_url=fake.url, auth=Auth.Token("ghs_" + "x" * 36), retry=None, **FAST)
    with pytest.raises(BadCredentialsException) as e:
        g.get_repo("acme/web")
    assert e.value.status == 401 and e.value.data["message"] == "Bad credentials"

    token = token_for(fake, inst)
    g = Github(base_url=fake.url, auth=Auth.Token(token), retry=None, **FAST)
    assert g.get_repo("acme/web").full_name == "acme/web"
    # a repository the installation does not cover is a 404, as on GitHub
    fake.create_repo("acme/secret")
    fake.create_repo("other/web")
    for name in ("acme/secret", "other/web", "acme/missing"):
        with pytest.raises(UnknownObjectException):
            g.get_repo(name)
    # tests can expire tokens; Bearer is accepted as well as token
    assert raw(fake, "GET", "/repos/acme/web", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert fake.expire_tokens(inst.id) == 1
    with pytest.raises(BadCredentialsException):
        g.get_repo("acme/web")
    # PyGithub's installation auth simply fetches a new one
    assert installation_client(fake, inst).get_repo("acme/web").id == fake.repo("acme/web").id


def test_installation_permissions_are_enforced(fake_github):
    fake = fake_github
    inst = fake.install(
        "acme", repos=["acme/web"], permissions={"metadata": "read", "contents": "read", "pull_requests": "read"}
    )
    g = installation_client(fake, inst)
    repo = g.get_repo("acme/web")
    with pytest.raises(GithubException) as e:
        repo.create_check_run("footgun", fake.repo("acme/web").branches["main"])
    assert e.value.status == 403
    assert e.value.data["message"] == "Resource not accessible by integration"
    # asking for more than the installation has is refused
    gi = GithubIntegration(auth=Auth.AppAuth(fake.app.id, fake.app.private_key_pem), base_url=fake.url)
    with pytest.raises(GithubException) as e:
        gi.get_access_token(inst.id, permissions={"checks": "write"})
    assert e.value.status == 422


# --------------------------------------------------------------------------- git data


def test_blob_and_tree_shas_are_gits(fake_github, tmp_path: Path):
    fake = fake_github
    files = {
        "a.yaml": "x: 1\n",
        "dir/b.yaml": "y: 2\n",
        "dir/sub/c.txt": "z\n",
        "dir-x": "sorting\n",
        "bin.dat": b"\x00\x01\x02",
    }
    repo = fake.create_repo("acme/web", files=files)
    commit = repo.store.commits[repo.branches["main"]]
    assert commit.files["a.yaml"] == blob_sha(b"x: 1\n")
    # the tree SHA is exactly what git computes for the same files
    for path, content in files.items():
        p = tmp_path / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(tmp_path)]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    tree = subprocess.run(git + ["write-tree"], check=True, capture_output=True, text=True).stdout.strip()
    assert commit.tree == tree


def test_git_data_endpoints(world):
    fake, inst, pr = world
    g = installation_client(fake, inst)
    repo = g.get_repo("acme/web")
    tree = repo.get_git_tree(pr.head_sha, recursive=True)
    paths = {e.path: e for e in tree.tree}
    assert {"k8s", "k8s/svc.yaml", "k8s/deploy.txt", "new.yaml"} <= set(paths)
    assert paths["k8s"].type == "tree" and paths["k8s/svc.yaml"].type == "blob"
    assert not tree.raw_data["truncated"]
    blob = repo.get_git_blob(paths["k8s/svc.yaml"].sha)
    assert base64.b64decode(blob.content) == SERVICE.replace("app: web", "app: api").encode()
    assert paths["k8s/svc.yaml"].sha == blob_sha(base64.b64decode(blob.content))
    # a branch name works as tree-ish too, and non-recursive lists the top level only
    top = repo.get_git_tree("main")
    assert {e.path for e in top.tree} == {"k8s", "old.txt"}
    # truncation past the configured limit
    fake.limits.tree_max_entries = 2
    assert repo.get_git_tree(pr.head_sha, recursive=True).raw_data["truncated"] is True

    content = repo.get_contents("k8s/svc.yaml", ref="main")
    assert content.decoded_content == SERVICE.encode() and content.sha == blob_sha(SERVICE.encode())
    listing = repo.get_contents("k8s", ref=pr.head_sha)
    assert sorted(c.name for c in listing) == ["deploy.txt", "svc.yaml"]
    with pytest.raises(UnknownObjectException):
        repo.get_contents("nope.yaml", ref="main")

    commit = repo.get_commit(pr.head_sha)
    assert commit.sha == pr.head_sha and commit.parents[0].sha == fake.repo("acme/web").branches["main"]
    assert {f.filename for f in commit.files} == {"k8s/svc.yaml", "k8s/deploy.txt", "old.txt", "new.yaml"}
    with pytest.raises(GithubException) as e:
        repo.get_commit("f" * 40)
    assert e.value.status == 422 and e.value.data["message"] == f"No commit found for SHA: {'f' * 40}"


def test_tarball_redirects_to_a_real_gzip_tar(world):
    fake, inst, pr = world
    g = installation_client(fake, inst)
    link = g.get_repo("acme/web").get_archive_link("tarball", pr.head_sha)
    assert link.startswith(fake.url)
    data = requests.get(link, timeout=10).content
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        names = tar.getnames()
        top = f"acme-web-{pr.head_sha[:7]}"
        assert names[0] == top
        assert f"{top}/k8s/svc.yaml" in names and f"{top}/new.yaml" in names
        assert tar.extractfile(f"{top}/k8s/svc.yaml").read() == SERVICE.replace("app: web", "app: api").encode()
        assert tar.pax_headers.get("comment") == pr.head_sha
    # the redirect target needs its token
    assert requests.get(link.split("?")[0], timeout=10).status_code == 404


# --------------------------------------------------------------------------- pull requests


def test_pull_request_files_and_patches(world):
    fake, inst, pr = world
    files = {f.filename: f for f in installation_client(fake, inst).get_repo("acme/web").get_pull(1).get_files()}
    assert {n: f.status for n, f in files.items()} == {
        "k8s/svc.yaml": "modified",
        "k8s/deploy.txt": "modified",
        "old.txt": "removed",
        "new.yaml": "added",
    }
    assert files["k8s/svc.yaml"].patch == (
        "@@ -5,7 +5,7 @@ metadata:\n"
        "   namespace: prod\n"
        " spec:\n"
        "   selector:\n"
        "-    app: web\n"
        "+    app: api\n"
        "   ports:\n"
        "   - port: 80\n"
        "     targetPort: 8080"
    )
    deploy = files["k8s/deploy.txt"].patch.split("\n")
    assert [line for line in deploy if line.startswith("@@")] == ["@@ -2,7 +2,7 @@ line 1", "@@ -27,7 +27,7 @@ line 26"]
    assert files["new.yaml"].patch == "@@ -0,0 +1 @@\n+a: 1"
    assert files["old.txt"].patch == "@@ -1 +0,0 @@\n-bye"
    assert (files["new.yaml"].additions, files["old.txt"].deletions) == (1, 1)


def test_binary_huge_renamed_and_no_newline_files(fake_github):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    fake.commit(
        "acme/web",
        branch="main",
        changes={
            "logo.png": b"\x89PNG\x00\x00data",
            "big.txt": "".join(f"{i}\n" for i in range(5000)),
            "moved/a.yaml": "x: 1\ny: 2\n",
            "tail.txt": "last",
        },
    )
    fake.open_pull_request(
        "acme/web",
        head="b",
        changes={
            "logo.png": b"\x89PNG\x00\x00other",
            "big.txt": "".join(f"{i} changed\n" for i in range(5000)),
            "moved/a.yaml": None,
            "renamed/a.yaml": "x: 1\ny: 2\n",
            "tail.txt": "last\n",
        },
    )
    files = raw(fake, "GET", "/repos/acme/web/pulls/1/files", token_for(fake, inst)).json()
    by_name = {f["filename"]: f for f in files}
    assert "patch" not in by_name["logo.png"]  # binary: GitHub sends no patch
    assert "patch" not in by_name["big.txt"] and by_name["big.txt"]["additions"] == 5000  # too large
    assert by_name["renamed/a.yaml"]["status"] == "renamed"
    assert by_name["renamed/a.yaml"]["previous_filename"] == "moved/a.yaml"
    assert "moved/a.yaml" not in by_name
    assert by_name["tail.txt"]["patch"] == "@@ -1 +1 @@\n-last\n\\ No newline at end of file\n+last"


def test_files_pagination_with_link_header_and_3000_cap(fake_github):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    fake.open_pull_request("acme/web", head="many", changes={f"m/{i:04}.yaml": f"i: {i}\n" for i in range(3005)})
    token = token_for(fake, inst)
    first = raw(fake, "GET", "/repos/acme/web/pulls/1/files?per_page=100", token)
    assert len(first.json()) == 100
    links = requests.utils.parse_header_links(first.headers["link"])
    rels = {link["rel"]: link["url"] for link in links}
    assert set(rels) == {"next", "last"}
    assert "page=2" in rels["next"] and "page=30" in rels["last"] and rels["next"].startswith(fake.url)
    assert len(raw(fake, "GET", "/repos/acme/web/pulls/1/files?per_page=500", token).json()) == 100  # max 100
    last = raw(fake, "GET", "/repos/acme/web/pulls/1/files?per_page=100&page=30", token)
    assert {link["rel"] for link in requests.utils.parse_header_links(last.headers["link"])} == {"prev", "first"}

    fake.requests.clear()
    g = installation_client(fake, inst, per_page=100)
    names = [f.filename for f in g.get_repo("acme/web").get_pull(1).get_files()]
    assert len(names) == 3000 and names[0] == "m/0000.yaml" and names[-1] == "m/2999.yaml"
    assert fake.requests.count("GET", "/repos/acme/web/pulls/1/files") == 30


# --------------------------------------------------------------------------- reviews

REVIEW_422 = [
    ("line outside the diff", {"path": "k8s/deploy.txt", "line": 15}, "Line could not be resolved"),
    ("RIGHT line of a removed line", {"path": "old.txt", "line": 1}, "Line could not be resolved"),
    ("LEFT line that is only added", {"path": "new.yaml", "line": 1, "side": "LEFT"}, "Line could not be resolved"),
    ("unknown path", {"path": "k8s/nope.yaml", "line": 1}, "Path could not be resolved"),
    ("unchanged file", {"path": "README.md", "line": 1}, "Path could not be resolved"),
    (
        "start_line equal to line",
        {"path": "k8s/svc.yaml", "start_line": 8, "line": 8},
        "Pull request review thread start line must precede the end line.",
    ),
    (
        "start_line after line",
        {"path": "k8s/svc.yaml", "start_line": 9, "line": 8},
        "Pull request review thread start line must precede the end line.",
    ),
    (
        "range across hunks",
        {"path": "k8s/deploy.txt", "start_line": 5, "line": 30},
        "Pull request review thread start line must be part of the same hunk as the line.",
    ),
    (
        "comment body too long",
        {"path": "k8s/svc.yaml", "line": 8, "body": "x" * 65537},
        "Body is too long (maximum is 65536 characters)",
    ),
]


@pytest.mark.parametrize("case, comment, message", REVIEW_422, ids=[c[0] for c in REVIEW_422])
def test_review_comment_outside_what_github_accepts_rejects_whole_review(world, case, comment, message):
    fake, inst, pr = world
    p = installation_client(fake, inst).get_repo("acme/web").get_pull(1)
    good = {"path": "k8s/svc.yaml", "line": 8, "body": "fine"}
    bad = {"body": "bad", **comment}
    with pytest.raises(GithubException) as e:
        p.create_review(body="review", event="COMMENT", comments=[good, bad])
    assert e.value.status == 422
    assert e.value.data["message"] == "Unprocessable Entity"
    assert e.value.data["errors"] == [message]
    assert fake.reviews("acme/web", 1) == [] and fake.review_comments("acme/web", 1) == []
    assert p.get_reviews().totalCount == 0


def test_review_level_422s(world):
    fake, inst, pr = world
    p = installation_client(fake, inst).get_repo("acme/web").get_pull(1)
    token = token_for(fake, inst)

    def post(payload):
        return raw(fake, "POST", "/repos/acme/web/pulls/1/reviews", token, json=payload)

    r = post({"event": "COMMENT", "body": "x" * 65537})
    assert r.status_code == 422 and r.json()["errors"] == ["Body is too long (maximum is 65536 characters)"]
    r = post({"event": "COMMENT", "body": ""})
    assert r.status_code == 422 and r.json()["message"] == "Unprocessable Entity"
    r = post({"event": "REQUEST_CHANGES"})
    assert r.status_code == 422
    assert r.json()["errors"] == ["You need to leave a comment indicating the requested changes."]
    other = fake.commit("acme/web", changes={"x": "1"}, branch="elsewhere")
    r = post({"event": "COMMENT", "body": "hi", "commit_id": other})
    assert r.status_code == 422 and r.json()["errors"] == ["The commitOID is not part of the pull request"]
    r = post(
        {
            "event": "COMMENT",
            "body": "hi",
            "comments": [{"path": "a", "line": 1, "body": "x"}, {"path": "b", "line": 1, "body": "y"}],
        }
    )
    assert r.json()["errors"] == ["Path could not be resolved and Path could not be resolved"]
    assert fake.reviews("acme/web", 1) == []
    # 65,536 characters exactly is fine
    assert p.create_review(body="x" * 65536, event="COMMENT").state == "COMMENTED"


def test_valid_review_is_stored_with_threads(world):
    fake, inst, pr = world
    p = installation_client(fake, inst).get_repo("acme/web").get_pull(1)
    review = p.create_review(
        commit=p.base.repo.get_commit(pr.head_sha),
        body="footgun found 2 problems",
        event="COMMENT",
        comments=[
            {
                "path": "k8s/svc.yaml",
                "start_line": 7,
                "line": 8,
                "body": "```suggestion\n  selector:\n    app: web\n```",
            },
            {"path": "k8s/deploy.txt", "line": 5, "side": "LEFT", "body": "removed line"},
            {"path": "k8s/deploy.txt", "line": 31, "body": "context line"},
        ],
    )
    assert review.state == "COMMENTED" and review.user.login == "footgun[bot]" and review.commit_id == pr.head_sha
    stored = fake.reviews("acme/web", 1)
    assert [r.id for r in stored] == [review.id]
    comments = fake.review_comments("acme/web", 1)
    assert [(c.path, c.start_line, c.line, c.side) for c in comments] == [
        ("k8s/svc.yaml", 7, 8, "RIGHT"),
        ("k8s/deploy.txt", None, 5, "LEFT"),
        ("k8s/deploy.txt", None, 31, "RIGHT"),
    ]
    assert comments[0].diff_hunk.startswith("@@ -5,7 +5,7 @@") and comments[0].diff_hunk.endswith("+    app: api")
    assert len(fake.review_threads("acme/web", 1)) == 3
    listed = list(p.get_review_comments())
    assert [c.line for c in listed] == [8, 5, 31] and listed[0].start_line == 7


def test_replies_join_threads_and_show_in_reply_to_id(world):
    fake, inst, pr = world
    p = installation_client(fake, inst, per_page=2).get_repo("acme/web").get_pull(1)
    p.create_review(
        body="b",
        event="COMMENT",
        comments=[{"path": "k8s/svc.yaml", "line": 8, "body": "one"}, {"path": "new.yaml", "line": 1, "body": "two"}],
    )
    first = fake.review_comments("acme/web", 1)[0]
    reply = fake.reply_to_review_comment("acme/web", 1, first.id, "alice", "I disagree")
    listed = list(p.get_review_comments())  # 3 comments over 2 pages
    assert [c.body for c in listed] == ["one", "two", "I disagree"]
    assert listed[2].in_reply_to_id == first.id and listed[2].user.login == "alice"
    assert "in_reply_to_id" not in listed[0].raw_data
    thread = next(t for t in fake.review_threads("acme/web", 1) if t.comment_ids[0] == first.id)
    assert thread.comment_ids == [first.id, reply.id]
    # the App can reply too
    bot_reply = p.create_review_comment_reply(first.id, "noted")
    assert bot_reply.in_reply_to_id == first.id and bot_reply.user.login == "footgun[bot]"


def test_push_synchronize_moves_head_and_outdates_comments(world):
    fake, inst, pr = world
    g = installation_client(fake, inst)
    p = g.get_repo("acme/web").get_pull(1)
    p.create_review(body="b", event="COMMENT", comments=[{"path": "k8s/svc.yaml", "line": 8, "body": "one"}])
    old_head = pr.head_sha
    new_head = fake.push("acme/web", 1, changes={"k8s/svc.yaml": SERVICE})
    assert new_head != old_head
    p = g.get_repo("acme/web").get_pull(1)
    assert p.head.sha == new_head
    assert {f.filename for f in p.get_files()} == {"k8s/deploy.txt", "old.txt", "new.yaml"}
    comment = list(p.get_review_comments())[0]
    assert comment.line is None and comment.original_line == 8 and comment.original_commit_id == old_head
    # reviewing an earlier head of the PR is allowed
    assert (
        p.create_review(commit=g.get_repo("acme/web").get_commit(old_head), body="late", event="COMMENT").commit_id
        == old_head
    )


def test_fork_pull_request_is_read_through_the_base_repository(fake_github):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    fake.commit("acme/web", changes={"svc.yaml": SERVICE}, branch="main")
    fork = fake.fork("acme/web", "mallory")
    pr = fake.open_pull_request(
        "acme/web",
        head="evil",
        head_repo="mallory/web",
        user="mallory",
        changes={"svc.yaml": SERVICE.replace("80", "81")},
    )
    repo = installation_client(fake, inst).get_repo("acme/web")
    p = repo.get_pull(1)
    assert p.head.repo.full_name == "mallory/web" and p.base.repo.full_name == "acme/web"
    assert p.head.sha == fork.branches["evil"] == pr.head_sha
    assert [f.filename for f in p.get_files()] == ["svc.yaml"]
    tree = repo.get_git_tree(p.head.sha, recursive=True)  # fork objects readable via the base repo
    assert b"- port: 81\n" in base64.b64decode(repo.get_git_blob(tree.tree[0].sha).content)
    with pytest.raises(UnknownObjectException):  # the installation does not cover the fork
        installation_client(fake, inst).get_repo("mallory/web")


# --------------------------------------------------------------------------- checks


def test_check_runs_annotations_limit_and_accumulation(world):
    fake, inst, pr = world
    repo = installation_client(fake, inst).get_repo("acme/web")
    run = repo.create_check_run("footgun", pr.head_sha, status="in_progress")
    assert run.status == "in_progress" and run.started_at is not None

    def ann(i):
        return {
            "path": "k8s/svc.yaml",
            "start_line": i,
            "end_line": i,
            "annotation_level": "warning",
            "message": f"m{i}",
        }

    with pytest.raises(GithubException) as e:
        run.edit(output={"title": "t", "summary": "s", "annotations": [ann(i) for i in range(51)]})
    assert e.value.status == 422
    assert e.value.data["message"] == "Invalid request.\n\nNo more than 50 items are allowed; 51 were supplied."
    assert fake.check_runs("acme/web")[0].annotations == []
    run.edit(output={"title": "t", "summary": "s", "annotations": [ann(i) for i in range(50)]})
    run.edit(
        conclusion="failure",
        output={"title": "2 problems", "summary": "table", "annotations": [ann(i) for i in range(50, 80)]},
    )
    stored = fake.check_runs("acme/web", head_sha=pr.head_sha, name="footgun")[0]
    assert len(stored.annotations) == 80 and stored.status == "completed" and stored.conclusion == "failure"
    assert stored.output["title"] == "2 problems"
    fetched = repo.get_check_run(run.id)
    assert fetched.output.annotations_count == 80 and fetched.completed_at is not None
    assert [a.message for a in fetched.get_annotations()][-1] == "m79"
    runs = list(repo.get_commit(pr.head_sha).get_check_runs())
    assert [r.id for r in runs] == [run.id]
    with pytest.raises(GithubException) as e:
        repo.create_check_run(
            "footgun", pr.head_sha, output={"title": "t", "summary": "s", "annotations": [ann(i) for i in range(60)]}
        )
    assert e.value.status == 422 and len(fake.check_runs("acme/web")) == 1
    with pytest.raises(GithubException) as e:
        repo.create_check_run("footgun", "0" * 40)
    assert e.value.status == 422


# --------------------------------------------------------------------------- issues


def test_issue_comments_reactions_and_permissions(world):
    fake, inst, pr = world
    fake.add_user("rita")
    fake.set_permission("acme/web", "rita", "read")
    fake.add_user("mia")
    fake.set_permission("acme/web", "mia", "maintain")
    fake.add_user("stranger")
    repo = installation_client(fake, inst).get_repo("acme/web")
    cmd = fake.add_issue_comment("acme/web", 1, "alice", "/footgun recheck")
    comment = repo.get_issue(1).get_comment(cmd.id)
    assert comment.body == "/footgun recheck" and comment.user.login == "alice"
    eyes = comment.create_reaction("eyes")
    again = comment.create_reaction("eyes")
    assert eyes.id == again.id and eyes.content == "eyes"
    comment.create_reaction("rocket")
    assert [r.content for r in fake.reactions(cmd.id)] == ["eyes", "rocket"]
    with pytest.raises(GithubException) as e:
        comment.create_reaction("thumbsup")
    assert e.value.status == 422
    reply = repo.get_pull(1).create_issue_comment("Re-running footgun.")
    assert reply.user.login == "footgun[bot]" and reply.performed_via_github_app is not None
    assert [c.body for c in fake.comments_on("acme/web", 1)] == ["/footgun recheck", "Re-running footgun."]
    with pytest.raises(GithubException) as e:
        repo.get_pull(1).create_issue_comment("x" * 65537)
    assert (
        e.value.status == 422
        and e.value.data["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"
    )

    assert repo.get_collaborator_permission("alice") == "write"
    assert repo.get_collaborator_permission("rita") == "read"
    assert repo.get_collaborator_permission("mia") == "write"  # maintain maps to write
    assert repo.get_collaborator_role_name("mia") == "maintain"
    assert repo.get_collaborator_permission("acme") == "admin"  # the owner
    assert repo.get_collaborator_permission("stranger") == "read"  # public repo: everyone reads
    assert repo.get_collaborator_permission("footgun[bot]") == "read"
    with pytest.raises(GithubException) as e:
        repo.get_collaborator_permission("ghost")
    assert e.value.status == 404 and e.value.data["message"] == "ghost is not a user"
    fake.repo("acme/web").private = True
    assert repo.get_collaborator_permission("stranger") == "none"


# --------------------------------------------------------------------------- GraphQL


@needs_graphql
def test_graphql_batches_blob_reads_with_aliases(fake_github):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"])
    big = ("x" * 99 + "\n") * 6000  # 600,000 bytes
    head = fake.commit(
        "acme/web",
        branch="main",
        changes={"a.yaml": SERVICE, "b.yaml": "b: 2\n", "bin.yaml": b"\x00\x01", "big.yaml": big},
    )
    g = installation_client(fake, inst)
    query = """
    query($owner: String!, $name: String!) {
      repository(owner: $owner, name: $name) {
        a: object(expression: "HEAD_SHA:a.yaml") { ...B }
        b: object(expression: "main:b.yaml") { ...B }
        bin: object(expression: "main:bin.yaml") { ...B }
        big: object(expression: "main:big.yaml") { ...B }
        byOid: object(oid: "BLOB_SHA") { ... on Blob { text } }
        missing: object(expression: "main:nope.yaml") { ...B }
      }
    }
    fragment B on Blob { oid text isTruncated byteSize isBinary }
    """.replace("HEAD_SHA", head).replace("BLOB_SHA", blob_sha(b"b: 2\n"))
    fake.requests.clear()
    _, data = g.requester.graphql_query(query, {"owner": "acme", "name": "web"})
    r = data["data"]["repository"]
    assert r["a"] == {
        "oid": blob_sha(SERVICE.encode()),
        "text": SERVICE,
        "isTruncated": False,
        "byteSize": len(SERVICE),
        "isBinary": False,
    }
    assert r["b"]["text"] == "b: 2\n" and r["byOid"]["text"] == "b: 2\n"
    assert r["bin"]["text"] is None and r["bin"]["isBinary"] is True
    assert r["big"]["isTruncated"] is True and r["big"]["byteSize"] == 600_000
    assert len(r["big"]["text"].encode()) == 512_000
    assert r["missing"] is None
    [record] = fake.requests.filter("POST", "/graphql")
    assert record.graphql["object_lookups"] == 6 and fake.requests.count("POST", "/graphql") == 1


@needs_graphql
def test_graphql_errors_look_like_githubs(world):
    fake, inst, _ = world
    g = installation_client(fake, inst)
    with pytest.raises(UnknownObjectException) as e:
        g.requester.graphql_query('{ repository(owner: "acme", name: "nope") { id } }', {})
    assert e.value.data["errors"][0]["message"] == "Could not resolve to a Repository with the name 'acme/nope'."
    with pytest.raises(GithubException) as e:
        g.requester.graphql_query(
            '{ repository(owner: "acme", name: "web") { pullRequest(number: 1) { reviewThreads { totalCount } } } }', {}
        )
    assert e.value.data["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    with pytest.raises(GithubException) as e:
        g.requester.graphql_query('{ repository(owner: "acme", name: "web") { nope } }', {})
    assert e.value.status == 400  # a validation error from the real schema
    resp = requests.post(fake.url + "/graphql", json={"query": "{ rateLimit { limit } }"}, timeout=10)
    assert resp.status_code == 401


THREADS = """
query($owner: String!, $name: String!, $number: Int!, $after: String) {
  repository(owner: $owner, name: $name) {
    pullRequest(number: $number) {
      reviewThreads(first: 2, after: $after) {
        nodes { id isResolved isOutdated path line
                comments(first: 10) { nodes { databaseId body author { login } } } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""


@needs_graphql
def test_graphql_review_threads_pagination_and_resolution(world):
    fake, inst, _ = world
    g = installation_client(fake, inst)
    g.get_repo("acme/web").get_pull(1).create_review(
        body="b",
        event="COMMENT",
        comments=[
            {"path": "k8s/svc.yaml", "line": 8, "body": "one"},
            {"path": "new.yaml", "line": 1, "body": "two"},
            {"path": "k8s/deploy.txt", "line": 30, "body": "three"},
        ],
    )
    first_comment = fake.review_comments("acme/web", 1)[0]
    fake.reply_to_review_comment("acme/web", 1, first_comment.id, "alice", "but why")

    nodes, after = [], None
    while True:
        _, data = g.requester.graphql_query(THREADS, {"owner": "acme", "name": "web", "number": 1, "after": after})
        conn = data["data"]["repository"]["pullRequest"]["reviewThreads"]
        nodes += conn["nodes"]
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    assert [n["path"] for n in nodes] == ["k8s/svc.yaml", "new.yaml", "k8s/deploy.txt"]
    # GraphQL names a bot by its slug, without REST's "[bot]" suffix
    assert [(c["body"], c["author"]["login"]) for c in nodes[0]["comments"]["nodes"]] == [
        ("one", "footgun"),
        ("but why", "alice"),
    ]
    assert nodes[0]["comments"]["nodes"][0]["databaseId"] == first_comment.id
    assert not any(n["isResolved"] for n in nodes)

    target = nodes[1]["id"]
    _, data = g.requester.graphql_query(
        "mutation($input: ResolveReviewThreadInput!) { resolveReviewThread(input: $input) "
        "{ thread { id isResolved } } }",
        {"input": {"threadId": target}},
    )
    assert data["data"]["resolveReviewThread"]["thread"] == {"id": target, "isResolved": True}
    assert [t.is_resolved for t in fake.review_threads("acme/web", 1)] == [False, True, False]
    # PyGithub's named-mutation helper works against it too
    _, payload = g.requester.graphql_named_mutation(
        "unresolveReviewThread", {"threadId": target}, "thread { isResolved }"
    )
    assert payload["thread"]["isResolved"] is False
    with pytest.raises(UnknownObjectException):
        g.requester.graphql_named_mutation("resolveReviewThread", {"threadId": "PRRT_nope"}, "thread { id }")


@needs_graphql
def test_graphql_needs_pull_request_write_to_resolve(fake_github):
    fake = fake_github
    inst = fake.install("acme", repos=["acme/web"], permissions={"metadata": "read", "pull_requests": "read"})
    fake.open_pull_request("acme/web", head="x", changes={"a.yaml": "a: 1\n"})
    review_inst = fake.install("acme", repos=["acme/web"])
    installation_client(fake, review_inst).get_repo("acme/web").get_pull(1).create_review(
        body="b", event="COMMENT", comments=[{"path": "a.yaml", "line": 1, "body": "c"}]
    )
    thread = fake.review_threads("acme/web", 1)[0]
    with pytest.raises(GithubException) as e:
        installation_client(fake, inst).requester.graphql_named_mutation(
            "resolveReviewThread", {"threadId": thread.id}, "thread { id }"
        )
    assert e.value.data["errors"][0]["type"] == "FORBIDDEN"
    assert not thread.is_resolved


# --------------------------------------------------------------------------- faults and the request log


def test_server_errors_then_success_with_retries(world):
    fake, inst, _ = world
    rule = fake.faults.server_error("GET", "/repos/acme/web/pulls/1", status=502, times=2)
    g = installation_client(fake, inst)
    repo = g.get_repo("acme/web")
    with pytest.raises(GithubException) as e:
        repo.get_pull(1)
    assert e.value.status == 502
    retrying = installation_client(fake, inst, retry=urllib3.Retry(total=3, status_forcelist=[502], backoff_factor=0))
    assert retrying.get_repo("acme/web").get_pull(1).number == 1
    assert rule.hits == 2
    assert [r.status for r in fake.requests.filter("GET", "/repos/acme/web/pulls/1")] == [502, 502, 200]
    assert fake.requests.filter("GET", "/repos/acme/web/pulls/1")[0].fault == "502"


def test_hang_past_client_timeout(world):
    fake, inst, _ = world
    g = installation_client(fake, inst, timeout=1)
    repo = g.get_repo("acme/web")
    fake.faults.hang("POST", "/repos/*/pulls/*/reviews", seconds=3)
    started = time.time()
    with pytest.raises(requests.exceptions.ReadTimeout):
        repo.get_pull(1).create_review(body="slow", event="COMMENT")
    assert time.time() - started < 2.9  # the client gave up before the server answered
    # the slow request still went through on the server, as a real one can
    until(lambda: fake.reviews("acme/web", 1), timeout=5, what="the slow review to be stored")
    assert len(fake.reviews("acme/web", 1)) == 1
    assert fake.requests.filter("POST", "/repos/acme/web/pulls/1/reviews")[0].fault == "hang"


def test_rate_limit_faults(world):
    fake, inst, _ = world
    token = token_for(fake, inst)
    fake.faults.secondary_rate_limit("GET", "/repos/acme/web", retry_after=7)
    r = raw(fake, "GET", "/repos/acme/web", token)
    assert r.status_code == 403 and r.headers["retry-after"] == "7"
    assert r.json()["message"].startswith("You have exceeded a secondary rate limit")
    fake.faults.too_many_requests("GET", "/repos/acme/web", retry_after=3)
    r = raw(fake, "GET", "/repos/acme/web", token)
    assert r.status_code == 429 and r.headers["retry-after"] == "3"
    assert raw(fake, "GET", "/repos/acme/web", token).status_code == 200

    g = Github(base_url=fake.url, auth=Auth.Token(token), retry=None, **FAST)
    fake.faults.secondary_rate_limit("GET", "/repos/acme/web")
    with pytest.raises(RateLimitExceededException):
        g.get_repo("acme/web")
    # PyGithub's GithubRetry waits retry-after and tries again
    fake.faults.secondary_rate_limit("GET", "/repos/acme/web", retry_after=1)
    patient = Github(
        base_url=fake.url, auth=Auth.Token(token), retry=GithubRetry(total=2, secondary_rate_wait=1), **FAST
    )
    started = time.time()
    assert patient.get_repo("acme/web").name == "web"
    assert time.time() - started >= 0.9


def test_primary_rate_limit_headers_and_exhaustion(world):
    fake, inst, _ = world
    token = token_for(fake, inst)
    first = raw(fake, "GET", "/repos/acme/web", token)
    second = raw(fake, "GET", "/repos/acme/web", token)
    assert first.headers["x-ratelimit-limit"] == "5000"
    assert int(second.headers["x-ratelimit-remaining"]) == int(first.headers["x-ratelimit-remaining"]) - 1
    assert int(first.headers["x-ratelimit-reset"]) > time.time()
    fake.rate_limiter.set_remaining(f"installation:{inst.id}", "core", 0)
    r = raw(fake, "GET", "/repos/acme/web", token)
    assert r.status_code == 403 and r.headers["x-ratelimit-remaining"] == "0"
    assert r.json()["message"] == f"API rate limit exceeded for installation ID {inst.id}."
    fake.faults.rate_limit("GET", "/repos/acme/web/pulls/1", reset_in=30)
    fake.rate_limiter.set_remaining(f"installation:{inst.id}", "core", 100)
    r = raw(fake, "GET", "/repos/acme/web/pulls/1", token)
    assert r.status_code == 403 and int(r.headers["x-ratelimit-reset"]) >= time.time() + 29


def test_expired_token_and_not_found_faults(world):
    fake, inst, _ = world
    token = token_for(fake, inst)
    fake.faults.expired_token("GET", "/repos/acme/web/pulls/*")
    assert raw(fake, "GET", "/repos/acme/web/pulls/1", token).status_code == 401
    # the token really is expired now: the client has to fetch a new one
    assert raw(fake, "GET", "/repos/acme/web", token).status_code == 401
    token = token_for(fake, inst)
    fake.faults.not_found("GET", "^/repos/acme/web/pulls/1$", times=None)
    assert raw(fake, "GET", "/repos/acme/web/pulls/1", token).status_code == 404
    assert raw(fake, "GET", "/repos/acme/web/pulls/1", token).status_code == 404
    assert raw(fake, "GET", "/repos/acme/web/pulls/1/files", token).status_code == 200
    fake.faults.clear()
    assert raw(fake, "GET", "/repos/acme/web/pulls/1", token).status_code == 200


def test_fault_after_handling_leaves_the_effect(world):
    fake, inst, _ = world
    p = installation_client(fake, inst).get_repo("acme/web").get_pull(1)
    fake.faults.server_error("POST", "/repos/acme/web/pulls/1/reviews", status=502, when="after")
    with pytest.raises(GithubException) as e:
        p.create_review(body="posted anyway", event="COMMENT")
    assert e.value.status == 502
    assert [r.body for r in fake.reviews("acme/web", 1)] == ["posted anyway"]


def test_request_log_counts_calls(world):
    fake, inst, _ = world
    fake.requests.clear()
    g = installation_client(fake, inst)
    p = g.get_repo("acme/web").get_pull(1)
    list(p.get_files())
    with pytest.raises(GithubException):
        p.create_review(body="", event="COMMENT")
    summary = fake.requests.summary()
    assert summary == [
        ("POST", f"/app/installations/{inst.id}/access_tokens", 201),
        ("GET", "/repos/acme/web", 200),
        ("GET", "/repos/acme/web/pulls/1", 200),
        ("GET", "/repos/acme/web/pulls/1/files", 200),
        ("POST", "/repos/acme/web/pulls/1/reviews", 422),
    ]
    assert fake.requests.count("GET") == 3 and fake.requests.count(path="/repos/acme/web/pulls/*") == 3
    assert all(r.installation_id == inst.id for r in fake.requests.filter(path="/repos/*"))
    assert fake.requests.filter(status=422)[0].message == 'Unprocessable Entity: [""]'


@needs_graphql
def test_enterprise_style_base_url_and_graphql_prefix(world):
    fake, inst, _ = world
    token = token_for(fake, inst)
    g = Github(base_url=fake.url + "/api/v3", auth=Auth.Token(token), retry=None, **FAST)
    p = g.get_repo("acme/web").get_pull(1)
    assert p.url == fake.url + "/api/v3/repos/acme/web/pulls/1"
    assert len(list(p.get_files())) == 4
    _, data = g.requester.graphql_query('{ repository(owner: "acme", name: "web") { nameWithOwner } }', {})
    assert data["data"]["repository"]["nameWithOwner"] == "acme/web"
    assert fake.requests.count("POST", "/graphql") == 1


def test_served_standalone_without_the_fixture():
    with FakeGitHubServer(FakeGitHub(app_id=7, app_slug="other")) as server:
        assert server.fake.url == server.url
        gi = GithubIntegration(auth=Auth.AppAuth(7, server.fake.app.private_key_pem), base_url=server.url)
        assert gi.get_app().slug == "other"
        assert server.fake.app_env()["GITHUB_API_URL"] == server.url


def test_webhook_deliveries_match_the_api_and_are_signed(world):
    import hashlib
    import hmac
    import json as jsonlib

    fake, inst, pr = world
    opened = fake.webhooks.pull_request("acme/web", 1, "opened")
    body = opened.body
    headers = opened.headers("s3cret")
    assert headers["X-GitHub-Event"] == "pull_request"
    assert headers["X-Hub-Signature-256"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    payload = jsonlib.loads(body)
    assert payload["installation"]["id"] == inst.id and payload["number"] == 1
    assert payload["pull_request"]["head"]["sha"] == pr.head_sha
    assert payload["pull_request"]["url"] == f"{fake.url}/repos/acme/web/pulls/1"
    assert opened.redelivery().delivery_id == opened.delivery_id

    old = pr.head_sha
    fake.push("acme/web", 1, changes={"new.yaml": "a: 2\n"})
    sync = jsonlib.loads(fake.webhooks.pull_request("acme/web", 1, "synchronize").body)
    assert (sync["before"], sync["after"]) == (old, pr.head_sha)

    c = fake.add_issue_comment("acme/web", 1, "alice", "/footgun recheck")
    ic = jsonlib.loads(fake.webhooks.issue_comment(c.id).body)
    assert ic["comment"]["id"] == c.id and "pull_request" in ic["issue"] and ic["sender"]["login"] == "alice"
    # the payload's URLs work against the fake through PyGithub
    g = installation_client(fake, inst)
    assert g.get_repo(ic["repository"]["full_name"]).get_pull(ic["issue"]["number"]).head.sha == pr.head_sha


def test_content_creation_secondary_rate_limit(world):
    fake, inst, _ = world
    assert (fake.limits.content_per_minute, fake.limits.content_per_hour) == (80, 500)  # GitHub's numbers
    fake.limits.content_per_minute = 3
    p = installation_client(fake, inst).get_repo("acme/web").get_pull(1)
    for i in range(3):
        p.create_issue_comment(f"comment {i}")
    with pytest.raises(RateLimitExceededException) as e:
        p.create_review(body="one too many", event="COMMENT")
    assert e.value.status == 403 and 1 <= int(e.value.headers["retry-after"]) <= 60
    assert fake.reviews("acme/web", 1) == []
    assert p.get_reviews().totalCount == 0  # reads are not content creation
