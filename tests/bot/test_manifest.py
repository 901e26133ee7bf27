"""app.yml (GitHub's App manifest format) and the Procfile."""

from __future__ import annotations

from pathlib import Path

from .test_app_flow import MANIFEST

ROOT = Path(__file__).resolve().parents[2]


def test_app_manifest():
    assert set(MANIFEST) <= {
        "name",
        "description",
        "url",
        "hook_attributes",
        "redirect_url",
        "callback_urls",
        "setup_url",
        "public",
        "default_events",
        "default_permissions",
        "request_oauth_on_install",
        "setup_on_update",
    }
    assert MANIFEST["name"] and MANIFEST["url"].startswith("https://")
    assert MANIFEST["hook_attributes"]["url"].endswith("/webhook")
    assert isinstance(MANIFEST["public"], bool)
    assert MANIFEST["default_events"] == ["pull_request", "issue_comment", "check_run"]
    assert MANIFEST["default_permissions"] == {
        "metadata": "read",
        "contents": "read",
        "pull_requests": "write",
        "checks": "write",
        "issues": "read",
    }


def test_procfile():
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line.strip())
    assert "gunicorn" in lines["web"] and "footgun.bot.app:create_app()" in lines["web"] and "$" in lines["web"]
    assert "footgun.bot.worker" in lines["worker"]
