"""``footgun serve``: the webhook server and its worker in one process, for local use.

The huey consumer's worker threads take the jobs the web server stores (the same
SQLite queue under ``FOOTGUN_DATA_DIR``, or Redis); Ctrl-C stops both, letting a
running job finish. A connection that sends nothing for `IDLE_TIMEOUT` seconds is
closed. In production run the two Procfile processes instead (its web process serves
slow clients without holding a worker each).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import create_app
from .credentials import verifies_webhooks
from .jobs import Jobs
from .logs import configure_logging
from .routes import build_router
from .settings import SettingsError
from .setup import load_web_settings, setup_mode_note

log = logging.getLogger("footgun.serve")

IDLE_TIMEOUT = 15.0  # seconds a connection may send nothing before it is closed


def _handler_with_timeout(seconds: float) -> type[WSGIRequestHandler]:
    """Werkzeug's handler, with a read timeout on each connection: a client that
    sends nothing (or stops halfway) loses its thread after ``seconds``, instead of
    holding it forever."""
    return type("TimedRequestHandler", (WSGIRequestHandler,), {"timeout": seconds})


def run(host: str = "127.0.0.1", port: int | None = None, idle_timeout: float = IDLE_TIMEOUT) -> None:
    try:
        settings = load_web_settings()
    except SettingsError as exc:
        print(f"footgun serve: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, settings.log_format)
    jobs = Jobs(settings, build_router())
    server = make_server(
        host,
        port or settings.port,
        create_app(settings, jobs),
        threaded=True,
        request_handler=_handler_with_timeout(idle_timeout),
    )
    consumer = jobs.consumer(signals=False)
    consumer.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    web = threading.Thread(target=server.serve_forever, name="footgun-web", daemon=True)
    web.start()
    log.info("footgun listening on http://%s:%d/webhook, data in %s", host, server.port, settings.data_dir)
    if not verifies_webhooks(settings):  # load_web_settings read the saved credentials
        log.info("%s", setup_mode_note(host, server.port))
    try:
        while not stop.wait(1):
            pass
    finally:
        log.info("stopping: the web server now, the worker after its running jobs")
        server.shutdown()
        consumer.stop(graceful=True)
