"""footgun: reviews Kubernetes manifests for Services & Ingress footguns.

The distribution installs one import namespace: ``footgun.rules`` (the engine,
``rules/`` in the repository), ``footgun.bot`` (the GitHub App, ``bot/``) and
``footgun.cli`` (the command line, ``cli/``); ``pyproject.toml`` maps them."""
