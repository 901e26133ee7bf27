"""Request helpers shared by the REST routes: the caller's credentials, repository access
checks, JSON answers and Link-header pagination.

* Authentication (https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api):
  ``/app`` endpoints need ``Authorization: Bearer <App JWT>``; everything else an
  installation token as ``token <t>`` (what PyGithub sends) or ``Bearer <t>``. A missing
  header answers 401 "Requires authentication", an unknown or expired token 401 "Bad
  credentials", a repository the installation does not cover 404 "Not Found", and an
  endpoint the installation's permissions do not allow 403 "Resource not accessible by
  integration".
* Pagination (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api):
  ``per_page`` (default 30, max 100) and ``page``; a ``link`` header with ``rel="next"``,
  ``"last"``, ``"first"``, ``"prev"`` as applicable.
* Rate limits: every authenticated answer carries ``x-ratelimit-*`` headers; when the
  hourly budget is spent, 403 "API rate limit exceeded for installation ID N.". Content
  creation beyond 80 a minute or 500 an hour answers GitHub's secondary rate limit (403
  with ``retry-after``), per
  https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits .
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, g, request

from .auth import InstallationToken, check_app_jwt
from .errors import APIError, bad_credentials, not_accessible, not_found, requires_authentication
from .faults import PRIMARY_DOCS, SECONDARY_DOCS, SECONDARY_MESSAGE
from .serializers import Urls
from .state import FakeGitHub, Installation, Repository

LEVELS = {"none": 0, "read": 1, "write": 2, "admin": 3}


def fake() -> FakeGitHub:
    return current_app.extensions["fakegithub"]


def urls() -> Urls:
    return Urls(api=request.url_root.rstrip("/"), html=request.host_url.rstrip("/"))


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    resp = Response(json.dumps(data), status=status, mimetype="application/json")
    resp.headers["content-type"] = "application/json; charset=utf-8"
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def json_body() -> dict[str, Any]:
    """The request's JSON object; 400 "Problems parsing JSON" like GitHub otherwise."""
    raw = request.get_data()
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise APIError(400, "Problems parsing JSON") from None
    if not isinstance(data, dict):
        raise APIError(400, "Problems parsing JSON")
    return data


def _credentials() -> tuple[str, str] | None:
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return scheme.lower(), value.strip()


def _rate(key: str, resource: str, points: int = 1, installation_id: int | None = None) -> None:
    f = fake()
    allowed, headers = f.rate_limiter.consume(key, resource, f.now(), points)
    g.rate_headers = headers
    if not allowed:
        who = f"installation ID {installation_id}" if installation_id else "this app"
        raise APIError(403, f"API rate limit exceeded for {who}.", documentation_url=PRIMARY_DOCS, headers=headers)


def require_app() -> None:
    """The caller must present a valid App JWT (``Authorization: Bearer <jwt>``)."""
    creds = _credentials()
    if creds is None:
        raise APIError(401, "A JSON web token could not be decoded")
    scheme, value = creds
    f = fake()
    message = (
        check_app_jwt(value, f.app.id, f.app.client_id, f.app.public_key_pem, f.now())
        if scheme == "bearer"
        else "A JSON web token could not be decoded"
    )
    if message:
        raise APIError(401, message)
    _rate(f"app:{f.app.id}", "core")


@dataclass
class Caller:
    installation: Installation
    token: InstallationToken


def require_installation(resource: str = "core", points: int = 1) -> Caller:
    """The caller must present a valid, unexpired installation token."""
    creds = _credentials()
    if creds is None:
        raise requires_authentication()
    scheme, value = creds
    if scheme not in ("token", "bearer"):
        raise bad_credentials()
    f = fake()
    tok = f.tokens.get(value)
    if tok is None or not tok.valid(f.now()):
        raise bad_credentials()
    inst = f.installations.get(tok.installation_id)
    if inst is None:
        raise bad_credentials()
    request.environ["fakegithub.installation_id"] = inst.id
    _rate(f"installation:{inst.id}", resource, points, inst.id)
    return Caller(inst, tok)


def allowed(caller: Caller, *needs: tuple[str, str]) -> bool:
    """True if the token has any one of ``(permission, level)``."""
    for perm, level in needs:
        if LEVELS.get(caller.token.permissions.get(perm, "none"), 0) >= LEVELS[level]:
            return True
    return False


def need(caller: Caller, *needs: tuple[str, str]) -> None:
    if needs and not allowed(caller, *needs):
        raise not_accessible()


def repo_access(owner: str, name: str, *needs: tuple[str, str]) -> tuple[Caller, Repository]:
    """Authenticate, find the repository (404 unless the installation covers it) and
    check the token has one of ``needs``."""
    caller = require_installation()
    f = fake()
    repo = f.repos.get(f"{owner}/{name}".lower())
    if repo is None or not caller.installation.covers(repo):
        raise not_found()
    need(caller, *(needs or (("metadata", "read"),)))
    return caller, repo


def content_created(caller: Caller) -> None:
    """Count a content-creating request (review, comment, reply, check run) against the
    secondary rate limit; 403 with ``retry-after`` when over it."""
    f = fake()
    now = f.now()
    per_min, per_hour = f.limits.content_per_minute, f.limits.content_per_hour
    if per_min is None and per_hour is None:
        return
    times = [t for t in f.content_log.get(caller.installation.id, []) if t > now - 3600]
    last_minute = [t for t in times if t > now - 60]
    wait = 0.0
    if per_min is not None and len(last_minute) >= per_min:
        wait = last_minute[len(last_minute) - per_min] + 60 - now
    if per_hour is not None and len(times) >= per_hour:
        wait = max(wait, times[len(times) - per_hour] + 3600 - now)
    if wait > 0:
        f.content_log[caller.installation.id] = times
        raise APIError(
            403,
            SECONDARY_MESSAGE,
            documentation_url=SECONDARY_DOCS,
            headers={"retry-after": str(max(1, math.ceil(wait)))},
        )
    times.append(now)
    f.content_log[caller.installation.id] = times


def paginate(items: list[Any], max_total: int | None = None) -> tuple[list[Any], dict[str, str]]:
    """Slice ``items`` by ``page``/``per_page`` and build GitHub's ``link`` header."""
    f = fake()
    if max_total is not None:
        items = items[:max_total]
    try:
        per_page = int(request.args.get("per_page", 30))
    except ValueError:
        per_page = 30
    per_page = 30 if per_page < 1 else min(per_page, f.limits.per_page_max)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    last = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    args = {k: v for k, v in request.args.items()}

    def link(p: int) -> str:
        q = dict(args, per_page=str(per_page), page=str(p)) if "per_page" in args else dict(args, page=str(p))
        return f"<{request.base_url}?{urlencode(q)}>"

    rels: list[str] = []
    if page > 1:
        rels.append(f'{link(min(page - 1, last))}; rel="prev"')
    if page < last:
        rels.append(f'{link(page + 1)}; rel="next"')
        rels.append(f'{link(last)}; rel="last"')
    if page > 1:
        rels.append(f'{link(1)}; rel="first"')
    return chunk, ({"link": ", ".join(rels)} if rels else {})
