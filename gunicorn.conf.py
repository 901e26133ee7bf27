"""gunicorn reads this file from the working directory when the Procfile's ``web``
process starts (the options themselves are on the Procfile's line).

It checks the settings before gunicorn starts a worker: what cannot work (a private key
that does not parse, a ``PORT`` that is not a number, a data directory that is a file,
a webhook secret too short to be one; an App id or key without a webhook secret)
stops the process with a one-line reason and
exit status 2, instead of a traceback per worker."""

import sys

from footgun.bot.settings import SettingsError
from footgun.bot.setup import load_web_settings

try:
    load_web_settings()  # without any App credentials: setup mode, not a refusal
except SettingsError as exc:
    print(f"footgun web: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
