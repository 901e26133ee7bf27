"""Setup mode: the App registers itself through GitHub's manifest flow.

https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest

Started without App credentials (none in the environment, none saved), the web
process still starts: ``GET /`` is a page that explains what will happen, and whose
form POSTs ``manifest`` (built from ``app.yml``, pointed at this server) to
``{GITHUB_URL}/settings/apps/new`` or ``{GITHUB_URL}/organizations/{org}/settings/apps/new``
with a random ``state`` in the query string, as GitHub documents. GitHub redirects back
to ``/setup/callback`` with ``code`` and ``state``: the state is consumed (once, whichever
process receives it), the code exchanged with ``POST {GITHUB_API_URL}/app-manifests/{code}/conversions``,
and the credentials saved (`bot.credentials`); the page then links to the App's
installation page. Until then ``POST /webhook`` answers 503 and ``GET /healthz`` says
the App is unconfigured. Once registered, ``GET /`` is a short status page.

No page and no log line shows a secret: the key, the webhook and client secrets go
from GitHub's answer to the file (and Redis) only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import requests
from flask import Flask, Request, Response, request
from jinja2 import Environment, FileSystemLoader, select_autoescape
from ruamel.yaml import YAML

from .credentials import AppCredentials, CredentialStore, LiveSettings, merged, verifies_webhooks
from .settings import Settings, load_settings

log = logging.getLogger("footgun.setup")

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "app.yml"
CALLBACK = "/setup/callback"
_pages = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))


def load_web_settings() -> Settings:
    """The web process's settings, completed by the saved credentials (read here once:
    the caller needs not read them again): with a webhook secret (set or saved), or,
    with no App configured at all, for setup mode. An App id or key without a webhook
    secret is a mistake to report, not a first run: `SettingsError`."""
    settings = load_settings(webhooks=False)
    completed = merged(settings, CredentialStore(settings).load())
    if verifies_webhooks(completed):
        return completed
    if settings.app_id is not None or settings.private_key:
        load_settings()  # raises: names the missing webhook secret
    return settings


def manifest(public_url: str, here: str) -> dict[str, Any]:
    """``app.yml`` pointed at ``public_url`` (home page, webhook) and redirecting back
    to ``here``, the address the person's browser is using (the same unless webhooks
    come through a forwarder such as smee.io)."""
    data = YAML(typ="safe").load(MANIFEST.read_text(encoding="utf-8"))
    data["url"] = public_url + "/"
    data["hook_attributes"] = {**(data.get("hook_attributes") or {}), "url": public_url + "/webhook"}
    data["redirect_url"] = here + CALLBACK
    return data


def request_address(req: Request) -> str:
    """The address this request came to (a proxy's ``X-Forwarded-Proto``/``-Host`` honoured)."""
    scheme = req.headers.get("X-Forwarded-Proto", req.scheme).split(",")[0].strip()
    host = req.headers.get("X-Forwarded-Host", req.host).split(",")[0].strip()
    return f"{scheme}://{host}"


def registration_url(settings: Settings, state: str, org: str | None) -> str:
    owner = f"/organizations/{quote(org, safe='')}" if org else ""
    return f"{settings.github_url}{owner}/settings/apps/new?{urlencode({'state': state})}"


def exchange(settings: Settings, code: str) -> AppCredentials:
    """GitHub's conversion of a manifest code: the App's id, slug, key and secrets."""
    answer = requests.post(
        f"{settings.api_url}/app-manifests/{quote(code, safe='')}/conversions",
        headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"},
        timeout=settings.github_timeout,
    )
    if answer.status_code != 201:
        raise ExchangeError(answer.status_code)
    return AppCredentials.from_conversion(answer.json())


class ExchangeError(RuntimeError):
    def __init__(self, status: int) -> None:
        super().__init__(f"GitHub answered {status} to the code's conversion")
        self.status = status


def _page(template: str, status: int = 200, **values: Any) -> Response:
    return Response(
        _pages.get_template(template).render(**values),
        status=status,
        mimetype="text/html",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def register_routes(app: Flask, live: LiveSettings) -> None:
    """``GET /`` (registration or status page) and the registration callback."""
    store = live.store

    @app.get("/")
    def home() -> Response:
        current = live.current()
        if current is not None:
            saved = store.load()
            return _page(
                "status.html",
                app_id=current.app_id,
                install_url=_install_url(saved),
                name=saved.name or saved.slug if saved else None,
            )
        settings = live.base
        org = (request.args.get("org") or "").strip() or None
        here = request_address(request)
        public = settings.public_url or here
        app_manifest = manifest(public, here)
        return _page(
            "setup.html",
            action=registration_url(settings, store.new_state(), org),
            org=org,
            manifest=json.dumps(app_manifest),
            public_url=public,
            github_url=settings.github_url,
            credentials_path=store.path,
            permissions=app_manifest.get("default_permissions") or {},
            events=app_manifest.get("default_events") or [],
        )

    @app.get(CALLBACK)
    def callback() -> Response:
        if live.current() is not None:
            return _page(
                "message.html",
                409,
                title="footgun is already registered",
                text="Nothing was changed. The App's status is on the home page.",
            )
        if not store.consume_state(request.args.get("state", "")):
            log.warning("registration callback refused: unknown, used or expired state")
            return _page(
                "message.html",
                400,
                title="This registration link is not valid",
                text="It has expired, was already used, or was not started from this server. "
                "Start again from the home page.",
            )
        try:
            credentials = exchange(live.base, request.args.get("code", ""))
        except (ExchangeError, requests.RequestException, ValueError, KeyError) as exc:
            log.warning("registration failed: %s", exc)
            return _page(
                "message.html",
                502,
                title="GitHub did not accept the registration code",
                text="A code is valid once, for one hour. Start again from the home page.",
            )
        store.save(credentials)
        return _page(
            "registered.html",
            name=credentials.name or credentials.slug,
            app_id=credentials.app_id,
            install_url=_install_url(credentials),
            credentials_path=store.path,
        )


def _install_url(credentials: AppCredentials | None) -> str | None:
    if credentials is None or not credentials.html_url:
        return None
    return credentials.html_url.rstrip("/") + "/installations/new"


def setup_mode_note(host: str, port: int) -> str:
    return (
        f"footgun is not registered with GitHub yet: open http://{host}:{port}/ to register the App "
        f"(webhooks are answered 503 until then)"
    )
