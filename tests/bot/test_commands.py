"""``/footgun`` commands in pull request comments, end to end."""

from __future__ import annotations

import pytest

from footgun.bot.commands import parse_command
from footgun.bot.review import is_command_line

from .test_app_flow import REPO, typo_pr


def reactions(fake, comment):
    return sorted(r.content for r in fake.reactions(comment.id) if r.user.login == "footgun[bot]")


def replies(fake, number):
    return [c for c in fake.comments_on(REPO, number) if c.user.login == "footgun[bot]"]


@pytest.fixture
def pr(bot):
    return typo_pr(bot, send=False)


@pytest.mark.parametrize("role", ["write", "maintain", "admin"])
def test_recheck_by_a_writer_runs_and_acknowledges(bot, pr, role):
    fake = bot.fake
    fake.set_permission(REPO, "carol", role)
    comment = fake.add_issue_comment(REPO, pr.number, "carol", "/footgun recheck\nplease")
    assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 202
    bot.wait()
    assert reactions(fake, comment) == ["eyes", "rocket"]
    assert len(bot.reviews(REPO, pr.number)) == 1
    assert fake.check_runs(REPO, pr.head_sha, "footgun")[0].conclusion == "failure"
    assert replies(fake, pr.number) == []


def test_recheck_reviews_a_draft(bot):
    fake = bot.fake
    pr = typo_pr(bot, send=False, draft=True)
    comment = fake.add_issue_comment(REPO, pr.number, "alice", "/footgun recheck")
    bot.post("issue_comment", bot.comment_payload(pr, comment))
    bot.wait()
    assert len(bot.reviews(REPO, pr.number)) == 1


def test_recheck_by_a_reader_is_refused_with_a_reason(bot, pr):
    fake = bot.fake
    fake.set_permission(REPO, "bob", "read")
    comment = fake.add_issue_comment(REPO, pr.number, "bob", "/footgun recheck")
    assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 202
    bot.wait()
    assert reactions(fake, comment) == ["confused"]
    [reply] = replies(fake, pr.number)
    assert "@bob" in reply.body and "write access" in reply.body
    assert fake.check_runs(REPO) == [] and bot.reviews(REPO, pr.number) == []


def test_recheck_by_a_bot_is_ignored(bot, pr):
    fake = bot.fake
    fake.add_user("helper[bot]", type="Bot")
    fake.set_permission(REPO, "helper[bot]", "write")
    comment = fake.add_issue_comment(REPO, pr.number, "helper[bot]", "/footgun recheck")
    answer = bot.post("issue_comment", bot.comment_payload(pr, comment))
    assert answer.status_code == 200 and "bots" in answer.get_json()["ignored"]
    bot.wait()
    assert fake.reactions(comment.id) == [] and fake.check_runs(REPO) == []


def test_the_apps_own_comments_are_ignored(bot, pr):
    fake = bot.fake
    comment = fake.add_issue_comment(REPO, pr.number, "footgun[bot]", "/footgun recheck")
    assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 200
    bot.wait()
    assert fake.check_runs(REPO) == []


def test_help_lists_the_commands_without_writing_one(bot, pr):
    fake = bot.fake
    comment = fake.add_issue_comment(REPO, pr.number, "bob", "/footgun help")
    assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 202
    bot.wait()
    [reply] = replies(fake, pr.number)
    assert "recheck" in reply.body and "help" in reply.body
    assert not any(is_command_line(line) for line in reply.body.split("\n"))
    assert parse_command(reply.body) is None
    assert fake.check_runs(REPO) == []


def test_comments_that_are_not_commands_are_ignored(bot, pr):
    fake = bot.fake
    for body in ("LGTM", "please /footgun recheck", "/footgunrecheck"):
        comment = fake.add_issue_comment(REPO, pr.number, "alice", body)
        assert bot.post("issue_comment", bot.comment_payload(pr, comment)).status_code == 200
    issue = fake.open_issue(REPO, "A question")
    comment = fake.add_issue_comment(REPO, issue.number, "alice", "/footgun recheck")
    payload = bot.comment_payload(pr, comment)
    payload["issue"].pop("pull_request")
    assert bot.post("issue_comment", payload).status_code == 200
    bot.wait()
    assert fake.check_runs(REPO) == [] and replies(fake, pr.number) == []


@pytest.mark.parametrize(
    "body, command",
    [
        ("/footgun recheck", "recheck"),
        ("/footgun  RECHECK  \r\nthanks", "recheck"),
        ("  /footgun help", "help"),
        ("/footgun", "help"),
        ("/footgun frobnicate", "frobnicate"),
        ("/footgunrecheck", None),
        ("please\n/footgun recheck", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_command(body, command):
    assert parse_command(body) == command
