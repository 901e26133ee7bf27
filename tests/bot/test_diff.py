"""Parsing PR patches and git diffs into the lines GitHub accepts comments on."""

from __future__ import annotations

import subprocess

import pytest

from footgun.bot.diff import FileDiff, from_pr_file, from_pr_files, parse_git_diff, parse_patch

PATCH = """@@ -1,4 +1,5 @@ kind: Service
 apiVersion: v1
-kind: Servce
+kind: Service
+metadata: {}
 spec:
   type: NodePort
@@ -20,3 +21,2 @@ spec:
 a
-b
 c"""


def commentable(diff: FileDiff, line: int) -> bool:
    """A RIGHT-side line (added or context): one a review comment may target."""
    return diff.text(line) is not None


def added_lines(diff: FileDiff) -> set[int]:
    return {n for hunk in diff.hunks for n in hunk.added}


def test_patch_right_lines_by_hunk():
    diff = parse_patch(PATCH, "svc.yaml")
    assert [sorted(h.right) for h in diff.hunks] == [[1, 2, 3, 4, 5], [21, 22]]
    assert commentable(diff, 1) and commentable(diff, 5) and commentable(diff, 22)
    assert not commentable(diff, 6) and not commentable(diff, 20) and not commentable(diff, 23)
    assert diff.added(2) and diff.added(3) and not diff.added(1) and not diff.added(21)
    assert added_lines(diff) == {2, 3}
    assert diff.hunk_spanning(4, 4).index == 0 and diff.hunk_spanning(22, 22).index == 1
    assert diff.text(2) == "kind: Service"
    assert diff.hunk_spanning(2, 5) is diff.hunks[0]
    assert diff.hunk_spanning(4, 21) is None  # across hunks: GitHub refuses the range
    assert diff.hunk_spanning(5, 6) is None


def test_texts_of_a_span_only_within_one_hunk():
    diff = parse_patch(PATCH, "svc.yaml")
    assert diff.texts(2, 4) == ["kind: Service", "metadata: {}", "spec:"]
    assert diff.texts(5, 5) == ["  type: NodePort"]
    assert diff.texts(21, 22) == ["a", "c"]
    assert diff.texts(4, 21) is None  # across hunks
    assert diff.texts(5, 6) is None and diff.texts(30, 31) is None  # past the hunk, outside the diff
    assert diff.texts(3, 2) is None


def test_no_newline_marker_and_empty_context_line():
    patch = "@@ -1,3 +1,3 @@\n a\n\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file"
    diff = parse_patch(patch, "f.yaml")
    assert diff.hunks[0].right == {1: "a", 2: "", 3: "c"}
    assert diff.added(3) and not diff.added(2)


def test_new_file_and_hunk_counts_of_one():
    diff = parse_patch("@@ -0,0 +1 @@\n+kind: Service", "new.yaml", "added")
    assert commentable(diff, 1) and diff.added(1)
    assert not commentable(diff, 2)


def test_removed_file_has_no_right_lines():
    diff = from_pr_file({"filename": "old.yaml", "status": "removed", "patch": "@@ -1,2 +0,0 @@\n-a\n-b"})
    assert diff.removed and not diff.hunks and not commentable(diff, 1)


def test_patchless_and_binary_files_have_nothing_commentable():
    large = from_pr_file({"filename": "big.yaml", "status": "modified", "changes": 9000})
    assert not large.has_patch and not commentable(large, 1)
    binary = from_pr_file({"filename": "logo.png", "status": "added"})
    assert not commentable(binary, 1)


def test_renamed_file_keeps_previous_path():
    class File:  # the attributes PyGithub's File offers
        filename, status, previous_filename = "k8s/new.yaml", "renamed", "k8s/old.yaml"
        patch = "@@ -1,2 +1,2 @@\n a\n-b\n+c"

    diffs = from_pr_files([File()])
    assert diffs["k8s/new.yaml"].previous_path == "k8s/old.yaml"
    assert diffs["k8s/new.yaml"].added(2)


def test_pure_rename_without_patch_has_no_lines():
    diff = from_pr_file({"filename": "b.yaml", "status": "renamed", "previous_filename": "a.yaml"})
    assert diff.previous_path == "a.yaml" and not commentable(diff, 1)


def _git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True).stdout


@pytest.fixture
def repo(tmp_path):
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "config", "user.email", "t@example.com")
    _git(tmp_path, "config", "user.name", "t")
    return tmp_path


def test_git_diff_of_a_real_repository(repo):
    (repo / "mod.yaml").write_text("".join(f"line{i}\n" for i in range(1, 21)))
    (repo / "gone.yaml").write_text("x\n")
    (repo / "move me.yaml").write_text("".join(f"keep{i}\n" for i in range(1, 11)))
    (repo / "bin.dat").write_bytes(b"\0\1\2")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    lines = [f"line{i}\n" for i in range(1, 21)]
    lines[1] = "changed2\n"
    lines[17] = "changed18\n"
    (repo / "mod.yaml").write_text("".join(lines))
    (repo / "gone.yaml").unlink()
    (repo / "move me.yaml").rename(repo / "moved here.yaml")
    (repo / "moved here.yaml").write_text("".join(f"keep{i}\n" for i in range(1, 11)) + "extra\n")
    (repo / "bin.dat").write_bytes(b"\0\1\3")
    (repo / "new.yaml").write_text("a: 1\nb: 2")  # no newline at end
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "head")
    diffs = parse_git_diff(_git(repo, "diff", "-M", "HEAD~1", "HEAD").decode())

    mod = diffs["mod.yaml"]
    assert [sorted(h.right) for h in mod.hunks] == [[1, 2, 3, 4, 5], [15, 16, 17, 18, 19, 20]]
    assert added_lines(mod) == {2, 18}
    assert diffs["gone.yaml"].removed and not commentable(diffs["gone.yaml"], 1)
    moved = diffs["moved here.yaml"]
    assert moved.status == "renamed" and moved.previous_path == "move me.yaml" and moved.added(11)
    assert diffs["bin.dat"].binary and not commentable(diffs["bin.dat"], 1)
    new = diffs["new.yaml"]
    assert new.status == "added" and added_lines(new) == {1, 2} and new.text(2) == "b: 2"


def test_git_diff_quoted_paths():
    text = (
        'diff --git "a/caf\\303\\251.yaml" "b/caf\\303\\251.yaml"\n'
        "index 1..2 100644\n"
        '--- "a/caf\\303\\251.yaml"\n'
        '+++ "b/caf\\303\\251.yaml"\n'
        "@@ -1 +1 @@\n-a\n+b\n"
    )
    assert list(parse_git_diff(text)) == ["café.yaml"]
    assert parse_git_diff(text)["café.yaml"].added(1)


def test_git_diff_binary_with_spaces_in_name():
    text = "diff --git a/my file.png b/my file.png\nindex 1..2 100644\nBinary files a/my file.png and b/my file.png differ\n"
    diff = parse_git_diff(text)["my file.png"]
    assert isinstance(diff, FileDiff) and diff.binary
