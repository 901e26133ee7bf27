"""How the App is put together: handlers on routers built in one place, a web process
that loads no handler's work, class names that name one thing each."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from footgun.bot.events import Event
from footgun.bot.routes import build_router

ROOT = Path(__file__).resolve().parents[2]


def test_importing_the_web_app_loads_neither_the_rule_engine_nor_the_github_client():
    script = "import json, sys; import footgun.bot.app; print(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded = set(json.loads(done.stdout))
    assert "footgun.bot.app" in loaded
    heavy = {"footgun.rules.engine", "footgun.rules.checks", "footgun.bot.analysis", "footgun.bot.github", "github"}
    assert not heavy & loaded


def test_every_router_is_built_whole_and_on_its_own():
    one, two = build_router(), build_router()
    assert one is not two and one.routes is not two.routes
    handled = {(route.event, action) for route in one.routes for action in route.actions}
    assert handled == {
        ("pull_request", "opened"),
        ("pull_request", "synchronize"),
        ("pull_request", "reopened"),
        ("pull_request", "ready_for_review"),
        ("issue_comment", "created"),
        ("check_run", "rerequested"),
    }
    event = Event("pull_request", "d-1", {"action": "opened", "repository": {"full_name": "a/b"}})
    assert one.route(event) is not None and two.route(event) is not None


def test_no_two_classes_share_a_name():
    names: Counter[str] = Counter()
    for folder in ("bot", "cli", "rules", "footgun"):
        for path in (ROOT / folder).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            names.update(node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef))
    assert [name for name, n in names.items() if n > 1] == []
