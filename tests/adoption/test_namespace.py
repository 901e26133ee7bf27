"""The distribution installs one import namespace, ``footgun``: the repository's
``rules/``, ``bot/`` and ``cli/`` are ``footgun.rules``, ``footgun.bot`` and
``footgun.cli``, and nothing named ``rules``, ``bot`` or ``cli`` becomes importable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import importlib.util, json, sys
import footgun.rules.engine, footgun.bot.review, footgun.cli.main
found = {name: importlib.util.find_spec(name) is not None for name in ("rules", "bot", "cli")}
print(json.dumps({"top_level": found, "engine": footgun.rules.engine.__file__}))
"""


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_installed_packages_live_under_footgun_only(tmp_path):
    # Run outside the repository, so only what the distribution installed is importable.
    done = _run([sys.executable, "-c", PROBE], tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"top_level": {"rules": false, "bot": false, "cli": false}' in done.stdout
    assert str(ROOT / "rules" / "engine.py") in done.stdout or "site-packages" in done.stdout


def test_python_dash_m_footgun_is_the_command_line(tmp_path):
    manifest = tmp_path / "svc.yaml"
    manifest.write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n")
    version = _run([sys.executable, "-m", "footgun", "--version"], tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("footgun "), version.stderr
    scan = _run([sys.executable, "-m", "footgun", "scan", "--format", "json", str(manifest)], tmp_path)
    assert scan.returncode in (0, 1), scan.stderr
    assert '"version": 1' in scan.stdout


def test_python_dash_m_footgun_in_a_checkout_over_a_regular_install():
    """In the repository's root, ``footgun/`` comes first on the path and holds only
    the package's top; with a regular (not editable) install behind it, the
    subpackages must still resolve, to the folders beside it. Simulated without
    ``site`` (so no editable finder): the checkout, then the installed dependencies."""
    site_packages = next(p for p in sys.path if p.endswith("site-packages"))
    run_from_checkout = (
        "import runpy, sys; "
        f"sys.path[:0] = [{str(ROOT)!r}]; sys.path.append({site_packages!r}); "
        "sys.argv = ['footgun', '--version']; runpy.run_module('footgun', run_name='__main__')"
    )
    done = _run([sys.executable, "-S", "-c", run_from_checkout], ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("footgun ")
