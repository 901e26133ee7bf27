"""App endpoints (JWT) and installation-token endpoints.

Mirrors https://docs.github.com/en/rest/apps/apps :
``GET /app``, ``GET /app/installations``, ``GET /app/installations/{id}``,
``POST /app/installations/{id}/access_tokens`` (201 ``{token, expires_at, permissions,
repository_selection}``, one hour), ``GET /repos/{owner}/{repo}/installation``, and
https://docs.github.com/en/rest/apps/installations#list-repositories-accessible-to-the-app-installation
plus ``GET /rate_limit``.
"""

from __future__ import annotations

from flask import Blueprint, Response

from .errors import APIError, not_found
from .http import LEVELS, fake, json_body, json_response, paginate, require_app, require_installation, urls
from .serializers import app_json, installation_json, iso, repo_json

bp = Blueprint("apps", __name__)


@bp.get("/app")
def get_app() -> Response:
    require_app()
    return json_response(app_json(urls(), fake().app))


@bp.get("/app/installations")
def list_installations() -> Response:
    require_app()
    f = fake()
    items = [installation_json(urls(), f, i) for i in sorted(f.installations.values(), key=lambda i: i.id)]
    page, headers = paginate(items)
    return json_response(page, headers=headers)


@bp.get("/app/installations/<int:installation_id>")
def get_installation(installation_id: int) -> Response:
    require_app()
    f = fake()
    inst = f.installations.get(installation_id)
    if inst is None:
        raise not_found("https://docs.github.com/rest/apps/apps#get-an-installation-for-the-authenticated-app")
    return json_response(installation_json(urls(), f, inst))


@bp.post("/app/installations/<int:installation_id>/access_tokens")
def create_access_token(installation_id: int) -> Response:
    require_app()
    f = fake()
    inst = f.installations.get(installation_id)
    if inst is None:
        raise not_found("https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app")
    body = json_body()
    wanted = body.get("permissions") or None
    if wanted:
        for perm, level in wanted.items():
            if LEVELS.get(level, 9) > LEVELS.get(inst.permissions.get(perm, "none"), 0):
                raise APIError(
                    422,
                    "The permissions requested are not granted to this installation.",
                    documentation_url="https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app",
                )
    tok = f.issue_token(installation_id, wanted)
    return json_response(
        {
            "token": tok.token,
            "expires_at": iso(tok.expires_at),
            "permissions": tok.permissions,
            "repository_selection": inst.repository_selection,
        },
        status=201,
    )


@bp.get("/repos/<owner>/<name>/installation")
def get_repo_installation(owner: str, name: str) -> Response:
    require_app()
    f = fake()
    repo = f.repos.get(f"{owner}/{name}".lower())
    inst = f.installation_for(repo) if repo else None
    if inst is None:
        raise not_found(
            "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app"
        )
    return json_response(installation_json(urls(), f, inst))


@bp.get("/installation/repositories")
def installation_repositories() -> Response:
    caller = require_installation()
    f = fake()
    repos = [r for r in f.repos.values() if caller.installation.covers(r)]
    repos.sort(key=lambda r: r.id)
    page, headers = paginate([repo_json(urls(), r, full=False) for r in repos])
    return json_response(
        {
            "total_count": len(repos),
            "repository_selection": caller.installation.repository_selection,
            "repositories": page,
        },
        headers=headers,
    )


@bp.get("/rate_limit")
def rate_limit() -> Response:
    caller = require_installation()
    f = fake()
    out = {}
    for resource in ("core", "graphql"):
        b = f.rate_limiter.bucket(f"installation:{caller.installation.id}", resource, f.now())
        out[resource] = {"limit": b.limit, "used": b.used, "remaining": max(0, b.limit - b.used), "reset": int(b.reset)}
    return json_response({"resources": out, "rate": out["core"]})
