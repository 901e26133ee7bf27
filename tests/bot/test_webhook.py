"""``POST /webhook`` and ``GET /healthz``: verification, size and JSON checks, what is
stored, deduplication; and the settings the server refuses to start without."""

from __future__ import annotations

import json
import time

import pytest

from footgun.bot.app import create_app
from footgun.bot.jobs import Jobs
from footgun.bot.routes import build_router
from footgun.bot.settings import Settings, SettingsError, load_settings
from footgun.bot.webhook import signature_of, valid_signature

from .harness import SECRET, start_bot, stop_bot
from .test_app_flow import REPO, open_typo, setup_repo


@pytest.fixture
def idle(fake_github, tmp_path):
    """The App without its worker: what the web process stores stays in the queue."""
    running = start_bot(fake_github, tmp_path / "data", consume=False)
    setup_repo(fake_github)
    yield running


def queued(bot) -> int:
    return bot.jobs.huey.pending_count()


def test_healthz_is_200_with_a_live_worker(bot):
    from .procs import until

    until(lambda: bot.client.get("/healthz").status_code == 200, what="the worker's first heartbeat")
    assert bot.client.get("/healthz").get_json() == {"status": "ok"}


def test_healthz_names_a_missing_worker(idle):
    answer = idle.client.get("/healthz")
    assert answer.status_code == 503 and "worker" in answer.get_json()["down"]


def test_healthz_names_a_worker_whose_heartbeat_stopped(idle):
    idle.jobs.store.beat("host:1:0")
    assert idle.client.get("/healthz").status_code == 200
    idle.jobs.store.clock = lambda: time.time() - 3600  # its last beat, an hour ago
    idle.jobs.store.beat("host:1:0")
    answer = idle.client.get("/healthz")
    assert answer.status_code == 503 and "no worker heartbeat for 3600 s" in answer.get_json()["down"]["worker"]


def test_healthz_names_a_store_that_does_not_answer(fake_github, tmp_path):
    from .procs import free_port

    nobody = start_bot(fake_github, tmp_path / "data", consume=False, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    answer = nobody.client.get("/healthz")
    assert answer.status_code == 503 and "does not answer" in answer.get_json()["down"]["store"]


def test_ping(idle):
    answer = idle.post("ping", {"zen": "Design for failure.", "hook_id": 1})
    assert answer.status_code == 200 and queued(idle) == 0


@pytest.mark.parametrize(
    "signature", [None, "", "sha256=" + "0" * 64, "sha1=abc", signature_of("another-secret", b"{}")]
)
def test_missing_or_wrong_signature_is_refused_and_nothing_stored(idle, signature):
    pr = open_typo(idle.fake)
    answer = idle.post(
        "pull_request", idle.pull_request_payload("opened", pr), delivery="d-forged", signature=signature
    )
    assert answer.status_code == 401
    assert queued(idle) == 0
    assert idle.jobs.store.remember_delivery("d-forged")  # it was never recorded


def test_signature_covers_the_raw_body(idle):
    pr = open_typo(idle.fake)
    body = json.dumps(idle.pull_request_payload("opened", pr)).encode()
    signature = signature_of(SECRET, body)
    reformatted = json.dumps(json.loads(body), indent=2).encode()  # same JSON, other bytes
    assert idle.post("pull_request", reformatted, signature=signature).status_code == 401
    assert idle.post("pull_request", body, signature=signature).status_code == 202


def test_valid_signature():
    body = b'{"a": 1}'
    assert valid_signature("s", body, signature_of("s", body))
    assert not valid_signature("s", body, signature_of("t", body))
    assert not valid_signature("s", body, None)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b"\xff\xfe"])
def test_malformed_json_is_a_400(idle, body):
    assert idle.post("pull_request", body).status_code == 400
    assert queued(idle) == 0


def test_missing_event_header_is_a_400(idle):
    body = b"{}"
    answer = idle.client.post("/webhook", data=body, headers={"X-Hub-Signature-256": signature_of(SECRET, body)})
    assert answer.status_code == 400


def test_body_over_the_cap_is_a_413(fake_github, tmp_path):
    settings = Settings(webhook_secret=SECRET, data_dir=tmp_path, max_body_bytes=2048)
    client = create_app(settings, Jobs(settings, build_router())).test_client()
    body = json.dumps({"action": "opened", "padding": "x" * 4096}).encode()
    answer = client.post(
        "/webhook",
        data=body,
        headers={
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": "big",
            "X-Hub-Signature-256": signature_of(SECRET, body),
        },
    )
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "event, payload",
    [
        ("push", {"ref": "refs/heads/main"}),
        ("installation", {"action": "created"}),
        ("pull_request", {"action": "closed", "pull_request": {"number": 1, "head": {"sha": "a" * 40}}}),
        ("pull_request", {"action": "labeled", "pull_request": {"number": 1, "head": {"sha": "a" * 40}}}),
        (
            "issue_comment",
            {
                "action": "edited",
                "issue": {"number": 1, "pull_request": {}},
                "comment": {"body": "/footgun recheck", "user": {"login": "a", "type": "User"}},
            },
        ),
        ("check_suite", {"action": "rerequested"}),
    ],
)
def test_other_events_are_ignored_with_a_200(idle, event, payload):
    answer = idle.post(event, payload)
    assert answer.status_code == 200 and "ignored" in answer.get_json()
    assert queued(idle) == 0


def test_accepted_delivery_is_stored_durably_and_once(idle, fake_github, tmp_path):
    pr = open_typo(fake_github)
    payload = idle.pull_request_payload("opened", pr)
    assert idle.post("pull_request", payload, delivery="d-1").status_code == 202
    assert idle.post("pull_request", payload, delivery="d-1").status_code == 200
    assert queued(idle) == 1

    # A new process on the same data directory (the worker, or a restart) runs it.
    worker = start_bot(fake_github, tmp_path / "data")
    try:
        worker.wait()
        assert len(worker.reviews(REPO, pr.number)) == 1
    finally:
        stop_bot(worker)


def test_server_refuses_to_start_without_a_webhook_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_WEBHOOK_SECRET", raising=False)
    monkeypatch.setenv("GITHUB_APP_ID", "42")  # an App set up by hand, half-way (none at all: setup mode)
    monkeypatch.setenv("FOOTGUN_DATA_DIR", str(tmp_path))
    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET"):
        create_app()


def test_settings_from_the_environment(tmp_path, fake_github):
    key = tmp_path / "app.pem"
    key.write_text(fake_github.app.private_key_pem)
    settings = load_settings(
        {
            "GITHUB_WEBHOOK_SECRET": SECRET,
            "GITHUB_APP_ID": "42",
            "GITHUB_PRIVATE_KEY_PATH": str(key),
            "FOOTGUN_DATA_DIR": str(tmp_path / "d"),
            "PORT": "9000",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
        }
    )
    assert settings.app_id == 42 and settings.private_key.startswith("-----BEGIN")
    assert settings.api_url == "https://ghe.example.com/api/v3" and settings.port == 9000
    assert settings.redis_url is None and settings.require_app_credentials()[0] == 42
    assert "BEGIN" not in repr(settings) and SECRET not in repr(settings)

    one_line = fake_github.app.private_key_pem.strip().replace("\n", "\\n")
    assert load_settings({"GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_PRIVATE_KEY": one_line}).private_key.count("\n") > 3


@pytest.mark.parametrize(
    "env, message",
    [
        ({"GITHUB_APP_ID": "abc"}, "GITHUB_APP_ID"),
        ({"GITHUB_PRIVATE_KEY": "not a key"}, "PEM"),
        ({"GITHUB_PRIVATE_KEY_PATH": "/nonexistent/key.pem"}, "GITHUB_PRIVATE_KEY_PATH"),
        ({"PORT": "http"}, "PORT"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"GITHUB_WEBHOOK_SECRET": SECRET, **env})


def test_worker_needs_the_app_credentials():
    with pytest.raises(SettingsError, match="GITHUB_APP_ID"):
        load_settings({"GITHUB_WEBHOOK_SECRET": SECRET}).require_app_credentials()


def test_the_worker_needs_no_webhook_secret(fake_github):
    settings = load_settings({**fake_github.app_env()}, webhooks=False)
    assert settings.webhook_secret == "" and settings.require_app_credentials()[0] == fake_github.app.id
