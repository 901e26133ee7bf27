"""The worker process: ``python -m bot.worker`` runs huey's consumer on the queue
(``FOOTGUN_WORKERS`` threads). The Procfile's ``worker`` line."""
from __future__ import annotations

import sys

from .logs import configure_logging
from .jobs import Jobs
from .settings import SettingsError, load_settings


def main() -> int:
    configure_logging()
    try:
        settings = load_settings(webhooks=False)
        settings.require_app_credentials()
    except SettingsError as exc:
        print(f"footgun worker: {exc}", file=sys.stderr)
        return 2
    Jobs(settings).consumer().run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
