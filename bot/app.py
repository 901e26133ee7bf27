"""The web process: a Flask app factory.

``POST /webhook`` hands each delivery to `bot.webhook.receive` (verify, store, answer);
``GET /healthz`` answers 200 when what serving needs is up: the queue's store answers
and a worker process said it is alive recently (`Jobs.health`); else 503 naming the
part that is down. ``GET /`` and ``/setup/callback`` register the App when it has no
credentials yet (`bot.setup`: until then webhooks get 503, and /healthz answers 200
saying so). Work happens in the workers (`bot.jobs`), never here.

Run it with ``gunicorn 'footgun.bot.app:create_app()'`` (see the Procfile) or, with its worker
in the same process, ``footgun serve``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

from .credentials import LiveSettings
from .jobs import Jobs
from .logs import configure_logging, register_secret
from .routes import build_router
from .settings import Settings
from .setup import load_web_settings, register_routes
from .webhook import receive


def create_app(settings: Settings | None = None, jobs: Jobs | None = None) -> Flask:
    """The Flask app. Settings come from the environment unless given. Without any App
    credentials (none set, none saved) it runs in setup mode (`bot.setup`); with an App
    id or key but no webhook secret, this raises `bot.settings.SettingsError` (the
    server does not start)."""
    settings = settings or load_web_settings()
    configure_logging(settings.log_level, settings.log_format)
    register_secret(settings.webhook_secret)
    register_secret(settings.private_key)
    router = build_router()
    jobs = jobs or Jobs(settings, router)
    app = Flask("footgun")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes  # larger bodies: 413
    app.extensions["footgun.jobs"] = jobs
    live = LiveSettings(settings)  # completed by the registration page's credentials once saved
    register_routes(app, live)

    @app.post("/webhook")
    def webhook() -> tuple[Response, int]:
        current = live.current()
        if current is None:
            return jsonify(error="footgun is not registered with GitHub yet: open / to register it"), 503
        answer = receive(
            request.get_data(cache=False), request.headers, current.webhook_secret, router, current.app_id, jobs.submit
        )
        return jsonify(answer.body), answer.status

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        if live.current() is None:
            return jsonify(status="unconfigured", setup="/"), 200
        down = jobs.health()
        if down:
            return jsonify(status="down", down=down), 503
        return jsonify(status="ok"), 200

    @app.errorhandler(413)
    def too_large(_exc) -> tuple[Response, int]:
        return jsonify(error=f"body over {settings.max_body_bytes} bytes"), 413

    return app
