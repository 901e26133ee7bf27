"""GitHub's App manifest flow: the web pages a person goes through, and the
conversion endpoint the App calls.

Mirrors https://docs.github.com/en/apps/sharing-github-apps/registering-a-github-app-from-a-manifest :

1. a form POSTs ``manifest`` (JSON) to ``/settings/apps/new`` (a personal account) or
   ``/organizations/{org}/settings/apps/new``, with ``state`` in the query string;
   GitHub shows its "Create GitHub App" page, where the person may change the name;
2. on "Create", GitHub registers the App and redirects to the manifest's
   ``redirect_url`` with ``code`` and ``state``;
3. ``POST /app-manifests/{code}/conversions`` (no authentication) answers 201 with the
   App (``id``, ``slug``, ``node_id``, ``owner``, ``name``, ``html_url``, ...) and its
   ``client_id``, ``client_secret``, ``webhook_secret`` and ``pem``; a code works once,
   within one hour; otherwise 404.

Plus the page a person installs the App from, ``{html_url}/installations/new``: one
button per account, installing on all of its repositories.

The registered App becomes the fake's App (``fake.app``): JWTs signed with its key
authenticate, and `fake.install` installs it. ``fake.web_login`` is the person signed
in to the fake's web pages (default ``octocat``).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, request

from .auth import generate_key_pair
from .errors import not_found
from .http import fake, json_response, urls
from .serializers import app_json
from .state import App, FakeGitHub

bp = Blueprint("manifest", __name__)

CODE_TTL = 3600  # "the code ... expires after one hour"


@dataclass
class Registration:
    app: App
    client_secret: str
    webhook_secret: str
    created: float
    events: list[str]
    permissions: dict[str, str]
    converted: bool = False


def registrations(f: FakeGitHub) -> dict[str, Registration]:
    """The codes handed out so far, by code (kept on the fake, created on first use)."""
    if not hasattr(f, "manifest_codes"):
        f.manifest_codes = {}
    return f.manifest_codes


def web_login(f: FakeGitHub) -> str:
    return getattr(f, "web_login", "octocat")


def _page(title: str, body: str) -> Response:
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(text, status=200, mimetype="text/html")


def _manifest() -> dict:
    try:
        manifest = json.loads(request.form.get("manifest", ""))
    except ValueError:
        manifest = None
    if (
        not isinstance(manifest, dict)
        or not manifest.get("url")
        or not (manifest.get("hook_attributes") or {}).get("url")
    ):
        raise _Invalid("Invalid GitHub App configuration: the manifest needs url and hook_attributes.url")
    return manifest


class _Invalid(Exception):
    pass


@bp.errorhandler(_Invalid)
def invalid(exc: _Invalid) -> Response:
    response = _page("Invalid GitHub App manifest", f"<p id='error'>{html.escape(str(exc))}</p>")
    response.status_code = 422
    return response


@bp.post("/settings/apps/new")
def new_personal_app() -> Response:
    return _confirm_page(None)


@bp.post("/organizations/<org>/settings/apps/new")
def new_org_app(org: str) -> Response:
    return _confirm_page(org)


def _confirm_page(org: str | None) -> Response:
    manifest = _manifest()
    owner = org or web_login(fake())
    fields = "".join(
        f"<input type='hidden' name='{name}' value='{html.escape(value, quote=True)}'>"
        for name, value in (
            ("manifest", json.dumps(manifest)),
            ("state", request.args.get("state", "")),
            ("owner", owner),
            ("owner_type", "Organization" if org else "User"),
        )
    )
    body = (
        f"<p>Create a GitHub App for <strong id='owner'>@{html.escape(owner)}</strong>.</p>"
        f"<form method='post' action='/settings/apps/new/create'>{fields}"
        f"<label>GitHub App name <input id='app-name' name='name' value='{html.escape(manifest.get('name') or '', quote=True)}'></label>"
        f"<button id='create' type='submit'>Create GitHub App for {html.escape(owner)}</button></form>"
    )
    return _page("Create GitHub App", body)


@bp.post("/settings/apps/new/create")
def create_app() -> Response:
    f = fake()
    manifest = _manifest()
    name = (request.form.get("name") or manifest.get("name") or "").strip()
    if not name:
        raise _Invalid("Name can't be blank")
    owner = f.add_user(request.form.get("owner") or web_login(f), type=request.form.get("owner_type") or "User")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    app_id = f.next_id()
    private_pem, public_pem = generate_key_pair()
    bot = f.add_user(f"{slug}[bot]", type="Bot")
    app = App(app_id, slug, name, owner, f"Iv23li{secrets.token_hex(5)}", private_pem, public_pem, bot)
    code = secrets.token_hex(20)
    registrations(f)[code] = Registration(
        app,
        secrets.token_hex(20),
        secrets.token_hex(20),
        f.now(),
        list(manifest.get("default_events") or []),
        dict(manifest.get("default_permissions") or {}),
    )
    f.app = app  # the App under test from now on
    query = {"code": code}
    if request.form.get("state"):
        query["state"] = request.form["state"]
    target = manifest.get("redirect_url") or manifest["url"]
    return redirect(f"{target}{'&' if '?' in target else '?'}{urlencode(query)}", code=302)


@bp.post("/app-manifests/<code>/conversions")
def convert(code: str) -> Response:
    f = fake()
    registration = registrations(f).get(code)
    if registration is None or registration.converted or f.now() - registration.created > CODE_TTL:
        raise not_found()
    registration.converted = True
    body = app_json(urls(), registration.app)
    body.update(
        {
            "events": registration.events,
            "permissions": registration.permissions,
            "installations_count": 0,
            "client_secret": registration.client_secret,
            "webhook_secret": registration.webhook_secret,
            "pem": registration.app.private_key_pem,
        }
    )
    return json_response(body, status=201)


@bp.get("/apps/<slug>/installations/new")
def install_page(slug: str) -> Response:
    f = fake()
    if slug != f.app.slug:
        raise not_found()
    accounts = sorted({web_login(f), f.app.owner.login, *getattr(f, "web_orgs", [])})
    buttons = "".join(
        f"<form method='post'><input type='hidden' name='account' value='{html.escape(a, quote=True)}'>"
        f"<button type='submit' id='install-{html.escape(a, quote=True)}'>Install on {html.escape(a)}</button></form>"
        for a in accounts
    )
    return _page(f"Install {f.app.name}", buttons)


@bp.post("/apps/<slug>/installations/new")
def install(slug: str) -> Response:
    f = fake()
    if slug != f.app.slug:
        raise not_found()
    account = request.form.get("account", "")
    inst = f.install(account, repos=None)
    return _page(
        f"{f.app.name} is installed",
        f"<p id='installed'>Installed on {html.escape(account)} (installation {inst.id}).</p>",
    )
