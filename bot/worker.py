"""The worker process: ``python -m footgun.bot.worker`` runs huey's consumer on the queue
(``FOOTGUN_WORKERS`` threads). The Procfile's ``worker`` line."""

from __future__ import annotations

import logging
import sys

from .credentials import current_settings
from .jobs import Jobs
from .logs import configure_logging, register_secret
from .routes import build_router
from .settings import SettingsError, load_settings

log = logging.getLogger("footgun.worker")


def main() -> int:
    try:
        settings = load_settings(webhooks=False)
        completed = current_settings(settings)
        if settings.app_id is not None or settings.private_key:  # set by hand: must be complete
            completed.require_app_credentials()
    except SettingsError as exc:
        print(f"footgun worker: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    register_secret(settings.webhook_secret)
    register_secret(settings.private_key)
    if completed.app_id is None:
        log.info("no App credentials yet: jobs will use those the registration page saves, without a restart")
    log.info(
        "footgun worker: %d threads, queue in %s",
        settings.workers,
        "Redis" if settings.redis_url else settings.data_dir,
    )
    Jobs(settings, build_router()).consumer().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
