"""footgun: reviews Kubernetes manifests for Services & Ingress footguns.

The distribution installs one import namespace: ``footgun.rules`` (the engine,
``rules/`` in the repository), ``footgun.bot`` (the GitHub App, ``bot/``) and
``footgun.cli`` (the command line, ``cli/``); ``pyproject.toml`` maps them."""

from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "pyproject.toml").is_file() and (_CHECKOUT / "rules" / "engine.py").is_file():
    # Imported from a checkout (``python -m footgun`` in the repository's root, where
    # this folder comes first on the path): the subpackages are the folders beside it,
    # as the package-dir mapping installs them. An installed copy has them inside.
    __path__.append(str(_CHECKOUT))
