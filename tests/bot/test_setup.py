"""Setup mode (`bot.setup`, `bot.credentials`): the registration page, GitHub's
redirect back, the credentials saved and picked up without a restart; against the
fake GitHub's manifest flow over real HTTP."""

from __future__ import annotations

import json
import logging
import stat
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from footgun.bot.app import create_app
from footgun.bot.credentials import FILE_NAME, AppCredentials, CredentialStore, LiveSettings, current_settings
from footgun.bot.settings import Settings, load_settings
from footgun.bot.setup import load_web_settings
from footgun.bot.webhook import signature_of
from tests.fakegithub.routes_manifest import CODE_TTL, registrations

from .harness import pull_request_payload


class Forms(HTMLParser):
    """The page's forms: action, method and their inputs' values."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "method": attrs.get("method"), "inputs": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"][attrs["name"]] = attrs.get("value", "")


def unconfigured(fake, data_dir: Path, **extra) -> Settings:
    env = {"GITHUB_API_URL": fake.url, "GITHUB_URL": fake.url, "FOOTGUN_DATA_DIR": str(data_dir), **extra}
    return load_settings(env, webhooks=False)


@pytest.fixture
def web(fake_github, tmp_path):
    settings = unconfigured(fake_github, tmp_path / "data")
    app = create_app(settings)
    yield app.test_client(), settings
    app.extensions["footgun.jobs"].huey.storage.close()


def register(client, fake, org: str | None = None, name: str | None = None) -> tuple[str, dict]:
    """The person's path through the pages: ours, GitHub's, back to ours. Returns the
    callback's page and the query GitHub redirected with."""
    page = client.get("/" + (f"?org={org}" if org else ""), base_url="https://footgun.example.org")
    form = Forms(page.text).forms[0]
    github = requests.post(form["action"], data=form["inputs"])  # the browser POSTs to GitHub
    assert github.status_code == 200, github.text
    create = Forms(github.text).forms[0]
    fields = dict(create["inputs"], **({"name": name} if name else {}))
    back = requests.post(fake.url + create["action"], data=fields, allow_redirects=False)
    assert back.status_code == 302
    redirect = urlsplit(back.headers["Location"])
    query = {k: v[0] for k, v in parse_qs(redirect.query).items()}
    return client.get(redirect.path, query_string=query).text, query


def test_unconfigured_server_serves_the_registration_page(web, fake_github):
    client, _ = web
    page = client.get("/", base_url="https://footgun.example.org")
    assert page.status_code == 200 and "Register the GitHub App" in page.text
    [register_form, org_form] = Forms(page.text).forms
    action = urlsplit(register_form["action"])
    assert register_form["method"] == "post"
    assert f"{action.scheme}://{action.netloc}{action.path}" == f"{fake_github.url}/settings/apps/new"
    state = parse_qs(action.query)["state"][0]
    assert len(state) >= 32
    manifest = json.loads(register_form["inputs"]["manifest"])
    assert manifest["url"] == "https://footgun.example.org/"
    assert manifest["hook_attributes"]["url"] == "https://footgun.example.org/webhook"
    assert manifest["redirect_url"] == "https://footgun.example.org/setup/callback"
    assert manifest["default_permissions"]["checks"] == "write" and "pull_request" in manifest["default_events"]
    assert org_form["method"] == "get" and "org" in org_form["inputs"]
    again = Forms(client.get("/").text).forms[0]
    assert parse_qs(urlsplit(again["action"]).query)["state"][0] != state  # one state per page


def test_an_organization_and_the_public_url_setting(fake_github, tmp_path):
    settings = unconfigured(fake_github, tmp_path / "data", FOOTGUN_PUBLIC_URL="https://review.acme.dev/")
    client = create_app(settings).test_client()
    form = Forms(client.get("/?org=acme%20corp").text).forms[0]
    assert form["action"].startswith(f"{fake_github.url}/organizations/acme%20corp/settings/apps/new?state=")
    sent = json.loads(form["inputs"]["manifest"])
    assert (
        sent["hook_attributes"]["url"] == "https://review.acme.dev/webhook"
        and sent["url"] == "https://review.acme.dev/"
    )
    assert sent["redirect_url"] == "http://localhost/setup/callback"  # back to where the browser is


def test_webhooks_wait_and_healthz_says_unconfigured(web):
    client, _ = web
    assert client.post("/webhook", data=b"{}", headers={"X-GitHub-Event": "ping"}).status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "unconfigured"


def test_registration_saves_the_credentials_and_takes_effect_at_once(web, fake_github, tmp_path, caplog):
    client, settings = web
    caplog.set_level(logging.DEBUG)
    page, query = register(client, fake_github, org="acme", name="Footgun for Acme")
    registration = registrations(fake_github)[query["code"]]
    app = registration.app
    assert app.slug == "footgun-for-acme" and app.owner.login == "acme"
    assert f"{app.slug}" in page and f'href="{fake_github.url}/apps/{app.slug}/installations/new"' in page
    secrets = (registration.webhook_secret, registration.client_secret, app.private_key_pem.splitlines()[1])
    assert not any(s in page for s in secrets)

    saved = settings.data_dir / FILE_NAME
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    data = json.loads(saved.read_text())
    assert data["app_id"] == app.id and data["private_key"] == app.private_key_pem
    assert data["webhook_secret"] == registration.webhook_secret and data["client_secret"] == registration.client_secret

    # configured now; with no worker process in this test, the health check names the worker
    assert client.get("/healthz").json["status"] == "down" and "worker" in client.get("/healthz").json["down"]
    status = client.get("/").text
    assert "Register the GitHub App" not in status and str(app.id) in status
    assert not any(s in status for s in secrets)
    fake_github.create_repo("acme/shop", files={"README.md": "# shop\n"})
    fake_github.install("acme", repos=None)
    pr = fake_github.open_pull_request("acme/shop", head="x", user="acme", changes={"k8s/a.yaml": "a: 1\n"})
    body = json.dumps(pull_request_payload(fake_github, "opened", pr)).encode()
    headers = {"X-GitHub-Event": "pull_request", "X-GitHub-Delivery": "d-1", "Content-Type": "application/json"}
    wrong = client.post("/webhook", data=body, headers={**headers, "X-Hub-Signature-256": signature_of("old", body)})
    assert wrong.status_code == 401
    right = client.post(
        "/webhook",
        data=body,
        headers={**headers, "X-Hub-Signature-256": signature_of(registration.webhook_secret, body)},
    )
    assert right.status_code == 202
    worker_side = current_settings(settings)
    assert worker_side.app_id == app.id and worker_side.private_key == app.private_key_pem
    logged = caplog.text
    assert "registered" in logged and not any(s in logged for s in secrets)


def test_a_revisited_or_forged_callback_exchanges_nothing(web, fake_github):
    client, settings = web
    conversions = lambda: fake_github.requests.count("POST", "/app-manifests/*/conversions")  # noqa: E731
    forged = client.get("/setup/callback", query_string={"code": "0" * 40, "state": "made-up"})
    assert forged.status_code == 400 and conversions() == 0
    _, query = register(client, fake_github)
    assert conversions() == 1
    again = client.get("/setup/callback", query_string=query)
    assert again.status_code == 409 and conversions() == 1


def test_a_used_state_is_refused_even_before_registration_completes(fake_github, tmp_path):
    store = CredentialStore(unconfigured(fake_github, tmp_path / "data"))
    state = store.new_state()
    assert store.consume_state(state) is True
    assert store.consume_state(state) is False
    assert store.consume_state("") is False


def test_an_expired_code_is_refused_by_github_and_said_so(web, fake_github, monkeypatch):
    client, _ = web
    page = client.get("/")
    form = Forms(page.text).forms[0]
    create = Forms(requests.post(form["action"], data=form["inputs"]).text).forms[0]
    back = requests.post(fake_github.url + create["action"], data=create["inputs"], allow_redirects=False)
    query = {k: v[0] for k, v in parse_qs(urlsplit(back.headers["Location"]).query).items()}
    now = fake_github.now()
    monkeypatch.setattr(fake_github, "clock", lambda: now + CODE_TTL + 1)
    answer = client.get("/setup/callback", query_string=query)
    assert answer.status_code == 502 and "valid once, for one hour" in answer.text
    assert client.get("/healthz").json["status"] == "unconfigured"


def test_conversion_codes_are_single_use(fake_github, web):
    client, _ = web
    _, query = register(client, fake_github)
    again = requests.post(f"{fake_github.url}/app-manifests/{query['code']}/conversions")
    assert again.status_code == 404


def test_environment_variables_win_over_saved_credentials(fake_github, tmp_path):
    data = tmp_path / "data"
    settings = unconfigured(fake_github, data)
    CredentialStore(settings).save(
        AppCredentials(
            app_id=7, slug="saved", private_key=fake_github.app.private_key_pem, webhook_secret="saved-secret"
        )
    )
    merged = current_settings(
        load_settings(
            {"FOOTGUN_DATA_DIR": str(data), "GITHUB_WEBHOOK_SECRET": "env-secret-of-20-chars"}, webhooks=False
        )
    )
    assert merged.webhook_secret == "env-secret-of-20-chars" and merged.app_id == 7
    assert LiveSettings(settings).current().webhook_secret == "saved-secret"


def test_half_configured_environment_is_an_error_not_setup_mode(fake_github, tmp_path, monkeypatch):
    for name in ("GITHUB_PRIVATE_KEY", "GITHUB_PRIVATE_KEY_PATH", "GITHUB_WEBHOOK_SECRET", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FOOTGUN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GITHUB_APP_ID", "42")
    from footgun.bot.settings import SettingsError

    with pytest.raises(SettingsError, match="GITHUB_WEBHOOK_SECRET"):
        load_web_settings()
    monkeypatch.delenv("GITHUB_APP_ID")
    assert load_web_settings().app_id is None  # nothing at all: setup mode


def test_saved_credentials_reach_another_machine_through_redis(fake_github, tmp_path, redis_url):
    here = unconfigured(fake_github, tmp_path / "here", REDIS_URL=redis_url)
    there = unconfigured(fake_github, tmp_path / "there", REDIS_URL=redis_url)
    live_there = LiveSettings(there)
    assert live_there.current() is None
    state = CredentialStore(here).new_state()
    assert CredentialStore(there).consume_state(state) is True  # the callback may land on any process
    assert CredentialStore(here).consume_state(state) is False
    CredentialStore(here).save(
        AppCredentials(
            app_id=9, slug="footgun", private_key=fake_github.app.private_key_pem, webhook_secret="s3cret-value"
        )
    )
    assert live_there.current().app_id == 9 and live_there.current().webhook_secret == "s3cret-value"


@pytest.mark.slow
def test_footgun_serve_starts_in_setup_mode(fake_github, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from .procs import ROOT, free_port, until

    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "FOOTGUN_", "REDIS_URL"))}
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "FOOTGUN_DATA_DIR": str(tmp_path / "data"),
            "GITHUB_URL": fake_github.url,
            "GITHUB_API_URL": fake_github.url,
        }
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        health = until(lambda: requests.get(f"{base}/healthz", timeout=2).json(), what="footgun serve")
        assert health["status"] == "unconfigured"
        assert "Register the GitHub App" in requests.get(base + "/", timeout=5).text
        assert requests.post(f"{base}/webhook", data=b"{}", timeout=5).status_code == 503
    finally:
        proc.send_signal(signal.SIGINT)
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert proc.returncode == 0, output
    assert f"open http://127.0.0.1:{port}/ to register the App" in output
