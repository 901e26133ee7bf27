"""``python -m footgun``: the command line, as the ``footgun`` script runs it."""

from footgun.cli.main import main

raise SystemExit(main())
