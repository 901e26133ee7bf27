"""The WSGI app and a loopback HTTP server for it.

``create_wsgi_app(fake)`` returns a WSGI callable: a Flask app with the REST blueprints
and GraphQL, wrapped in middleware that

* also serves everything under ``/api/v3`` (GitHub Enterprise Server's REST prefix) and
  GraphQL at ``/api/graphql``, so ``base_url`` may be ``http://host:port`` or
  ``http://host:port/api/v3``;
* applies fault rules (:mod:`tests.fakegithub.faults`) before or after handling;
* holds ``fake.lock`` while a request is handled, so state changes are atomic;
* appends every request to ``fake.requests`` (method, path, status, installation,
  fault, duration, error message, GraphQL summary).

``FakeGitHubServer`` serves it with ``werkzeug.serving.make_server("127.0.0.1", 0, app,
threaded=True)`` on a background thread and sets ``fake.url``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.serving import WSGIRequestHandler, make_server

from . import routes_apps, routes_checks, routes_issues, routes_manifest, routes_pulls, routes_repos
from .errors import APIError

try:  # GraphQL needs graphql-core; without it the REST API still works.
    from . import graphql_api
except ImportError:  # pragma: no cover - depends on the environment
    graphql_api = None  # type: ignore[assignment]
from .faults import RequestRecord
from .http import json_response
from .state import FakeGitHub


def create_flask_app(fake: FakeGitHub) -> Flask:
    app = Flask("fakegithub")
    app.extensions["fakegithub"] = fake
    for module in (routes_apps, routes_repos, routes_pulls, routes_checks, routes_issues, routes_manifest, graphql_api):
        if module is not None:
            app.register_blueprint(module.bp)
    if graphql_api is None:

        @app.post("/graphql")
        def graphql_unavailable() -> Response:
            return json_response(
                {"message": "the fake's GraphQL API needs graphql-core (pip install graphql-core)"}, status=501
            )

    @app.errorhandler(APIError)
    def api_error(e: APIError) -> Response:
        return json_response(e.body(), status=e.status, headers=e.headers)

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException) -> Response:
        # GitHub answers unknown paths and unsupported methods alike with 404.
        return json_response(
            {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}, status=404
        )

    @app.after_request
    def rate_headers(resp: Response) -> Response:
        for k, v in getattr(g, "rate_headers", {}).items():
            resp.headers.setdefault(k, v)
        resp.headers.setdefault("x-github-media-type", "github.v3; format=json")
        resp.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        return resp

    return app


class FakeGitHubWSGI:
    """Middleware: prefixes, faults, locking and the request log around the Flask app."""

    def __init__(self, fake: FakeGitHub, app: Flask) -> None:
        self.fake = fake
        self.app = app

    def _installation_of(self, environ: dict[str, Any]) -> int | None:
        scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        tok = self.fake.tokens.get(value.strip()) if scheme.lower() in ("token", "bearer") else None
        return tok.installation_id if tok else None

    def _expire_presented_token(self, environ: dict[str, Any]) -> None:
        _, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        with self.fake.lock:
            tok = self.fake.tokens.get(value.strip())
            if tok is not None:
                tok.expires_at = min(tok.expires_at, self.fake.now() - 1)

    def _run(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = headers
            return lambda data: None

        body_iter = self.app(environ, start_response)
        try:
            body = b"".join(body_iter)
        finally:
            close = getattr(body_iter, "close", None)
            if close:
                close()
        return captured["status"], list(captured["headers"]), body

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path == "/api/graphql":
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/api"
            path = "/graphql"
        elif path == "/api/v3" or path.startswith("/api/v3/"):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + "/api/v3"
            path = path[len("/api/v3") :] or "/"
        environ["PATH_INFO"] = path
        method = environ.get("REQUEST_METHOD", "GET").upper()
        started = time.time()
        record = RequestRecord(method, path, environ.get("QUERY_STRING", ""), 0, started=started)
        record.installation_id = self._installation_of(environ)
        rule = self.fake.faults.take(method, path)
        if rule is not None and rule.kind == "hang":
            record.fault = "hang"
            self.fake.faults.release.wait(rule.delay)
            rule = None
        if rule is not None and rule.when == "before":
            record.fault = rule.kind if rule.kind != "status" else str(rule.status)
            if rule.kind == "expired_token":
                self._expire_presented_token(environ)
            status, hdrs, body = rule.response(record.installation_id, self.fake.now())
            headers = list(hdrs.items())
        else:
            with self.fake.lock:
                status, headers, body = self._run(environ)
            if rule is not None:  # an "after" fault: the request took effect
                record.fault = (rule.kind if rule.kind != "status" else str(rule.status)) + " (after)"
                if rule.kind == "expired_token":
                    self._expire_presented_token(environ)
                status, hdrs, body = rule.response(record.installation_id, self.fake.now())
                headers = list(hdrs.items())
        record.status = status
        record.duration = time.time() - started
        record.graphql = environ.get("fakegithub.graphql")
        if record.installation_id is None:
            record.installation_id = environ.get("fakegithub.installation_id")
        if status >= 400:
            try:
                data = json.loads(body)
                record.message = data.get("message")
                if data.get("errors"):
                    record.message = f"{record.message}: {json.dumps(data['errors'])}"
            except (ValueError, AttributeError):
                record.message = body[:200].decode("utf-8", errors="replace")
        self.fake.requests.append(record)
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(body))))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'Unknown')}", headers)
        return [body]


def create_wsgi_app(fake: FakeGitHub) -> FakeGitHubWSGI:
    """The fake as a WSGI application (mount it anywhere, or use :class:`FakeGitHubServer`)."""
    return FakeGitHubWSGI(fake, create_flask_app(fake))


class _QuietHandler(WSGIRequestHandler):
    """No access log on stderr: the fake keeps its own request log."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


class FakeGitHubServer:
    """Serve a :class:`FakeGitHub` on ``127.0.0.1`` (a free port) in a background thread.

    ``server.url`` (also set as ``fake.url``) is the REST base URL to give PyGithub as
    ``base_url`` or the App as ``GITHUB_API_URL``; ``server.graphql_url`` is where
    PyGithub will send GraphQL for it."""

    def __init__(self, fake: FakeGitHub | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.fake = fake or FakeGitHub()
        self._server = make_server(host, port, create_wsgi_app(self.fake), threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True
        self.host, self.port = host, self._server.server_port
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def start(self) -> FakeGitHubServer:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fakegithub", daemon=True
        )
        self._thread.start()
        self.fake.url = self.url
        return self

    def stop(self) -> None:
        self.fake.faults.release_hangs()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeGitHubServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
