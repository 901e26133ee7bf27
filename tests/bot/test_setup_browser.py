"""The first run as a person does it, in a real headless Chromium: the Procfile's
processes (gunicorn for the web, ``python -m footgun.bot.worker``) started without App
credentials, the registration page, GitHub's (the fake's) "Create GitHub App" and
install pages, then a pull request reviewed with the new credentials; no restart.

Needs Debian's ``chromium`` and ``chromium-driver`` (`.ci/run` installs them) and
Selenium from PyPI; Selenium is pointed at them, so nothing is downloaded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from footgun.bot.credentials import FILE_NAME
from footgun.bot.webhook import signature_of
from tests.fakegithub.routes_manifest import registrations

from .harness import pull_request_payload
from .procs import ROOT, Worker, app_env, free_port, have_redis, until
from .test_app_flow import DEPLOY, REPO, SERVICE, TYPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
webdriver = pytest.importorskip("selenium.webdriver")
pytestmark = [
    pytest.mark.slow,  # drives a headless browser
    pytest.mark.skipif(
        not (CHROMIUM and CHROMEDRIVER),
        reason="chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture
def browser():
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.implicitly_wait(10)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(params=["sqlite", "redis"])
def where(request, tmp_path):
    """One machine sharing FOOTGUN_DATA_DIR, or two (no shared folder) sharing Redis."""
    if request.param == "redis":
        if not have_redis():
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        url = request.getfixturevalue("redis_url")
        return {"web": tmp_path / "web-machine", "worker": tmp_path / "worker-machine", "redis_url": url}
    return {"web": tmp_path / "data", "worker": tmp_path / "data", "redis_url": None}


def unregistered_env(fake, data_dir: Path, redis_url: str | None) -> dict[str, str]:
    env = app_env(fake, data_dir, redis_url=redis_url, GITHUB_URL=fake.url)
    for name in ("GITHUB_APP_ID", "GITHUB_PRIVATE_KEY", "GITHUB_WEBHOOK_SECRET"):
        env.pop(name)
    return env


def click_to(browser, element_id: str, url_part: str) -> None:
    """Click a link or button and wait until the browser is on a page whose address
    contains ``url_part``."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element("id", element_id).click()
    WebDriverWait(browser, 15).until(lambda b: url_part in b.current_url)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def test_register_install_and_review_without_a_restart(fake_github, tmp_path, browser, where):
    fake = fake_github
    fake.create_repo(REPO, files={"k8s/deploy.yaml": DEPLOY, "k8s/svc.yaml": SERVICE})
    fake.add_user("alice")
    fake.set_permission(REPO, "alice", "write")
    fake.web_orgs = ["acme"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web_log = tmp_path / "web.log"
    with open(web_log, "wb") as out:
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "footgun.bot.app:create_app()",
            ],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=unregistered_env(fake, where["web"], where["redis_url"]),
        )
    worker = Worker(unregistered_env(fake, where["worker"], where["redis_url"]), tmp_path / "worker.log")
    pages = []
    try:
        until(lambda: get_json(f"{base}/healthz")["status"] == "unconfigured", what="the web process")

        browser.get(base + "/")
        assert "Register the GitHub App" in browser.page_source
        browser.find_element("id", "org").send_keys("acme")
        click_to(browser, "use-org", "?org=acme")
        assert browser.find_element("id", "owner").text == "acme"
        pages.append(browser.page_source)
        click_to(browser, "register-button", f"{fake.url}/organizations/acme/settings/apps/new")  # GitHub's page

        assert browser.find_element("id", "owner").text == "@acme"
        name = browser.find_element("id", "app-name")
        name.clear()
        name.send_keys("Shop footgun")  # renamed on GitHub's page: its slug is what counts
        click_to(browser, "create", f"{base}/setup/callback")  # GitHub creates it and redirects back

        assert browser.find_element("id", "app-name").text == "Shop footgun"
        pages.append(browser.page_source)
        click_to(browser, "install", "/apps/shop-footgun/installations/new")  # GitHub's installation page
        browser.find_element("id", "install-acme").click()
        assert "Installed on acme" in browser.find_element("id", "installed").text

        [registration] = registrations(fake).values()
        assert registration.app.slug == "shop-footgun" and fake.app is registration.app
        saved = where["web"] / FILE_NAME
        assert saved.stat().st_mode & 0o777 == 0o600

        # Both gunicorn workers (whichever answers) left setup mode.
        for _ in range(4):
            assert get_json(f"{base}/healthz")["status"] == "ok"
        browser.get(base + "/")
        pages.append(browser.page_source)
        assert "Register the GitHub App" not in pages[-1] and "Shop footgun" in pages[-1]
        assert REPO not in pages[-1]

        pr = fake.open_pull_request(REPO, head="typo", user="alice", changes={"k8s/svc.yaml": TYPO})
        body = json.dumps(pull_request_payload(fake, "opened", pr)).encode()
        request = urllib.request.Request(
            f"{base}/webhook",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-GitHub-Event": "pull_request",
                "X-GitHub-Delivery": "first-pr",
                "X-Hub-Signature-256": signature_of(registration.webhook_secret, body),
            },
        )
        assert urllib.request.urlopen(request, timeout=5).status == 202
        reviews = until(lambda: fake.reviews(REPO, pr.number), timeout=60, what="the first review")
        assert reviews[0].user.login == "shop-footgun[bot]"
        assert "service-selector-mismatch" in " ".join(c.body for c in fake.review_comments(REPO, pr.number))
    finally:
        browser.quit()  # its keep-alive connections would hold the web workers
        web.terminate()
        try:
            web.wait(timeout=30)
        except subprocess.TimeoutExpired:
            web.kill()
            web.wait(timeout=10)
        worker.stop()
    secrets = (
        registration.webhook_secret,
        registration.client_secret,
        registration.app.private_key_pem.splitlines()[1],
    )
    logs = web_log.read_text(errors="replace") + worker.output()
    for text in (*pages, logs):
        assert not any(secret in text for secret in secrets)
