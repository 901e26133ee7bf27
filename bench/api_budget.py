"""API budget: how many GitHub API calls one review costs.

Runs the App (its web app, durable queue and real job workers, as the App's own tests
do) against the fake GitHub of ``tests/fakegithub`` on loopback, and counts the
requests the fake receives between the webhook delivery and the queue draining:

- a pull request changing 10, 250 and 1,000 manifests (existing ones edited, new ones
  added past the repository's size) in repositories of 100 and 2,000 manifests,
  delivered as ``opened`` to an App with an empty blob cache;
- then a ``synchronize`` that changes one file of the 10-manifest pull request, with
  the blob cache the first review filled.

Targets: at most 10 calls for 250 changed manifests; at most 5 for a one-file
synchronize. Each case prints its calls grouped by endpoint.

Usage: ``python -m bench.api_budget [--repos 100,2000] [--changes 10,250,1000] [-v]``.
"""

from __future__ import annotations

import argparse
import logging
import random
import re
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import corpus  # noqa: E402

REPO = "acme/platform"
TARGET_250 = 10
TARGET_SYNC = 5


def manifest(rng: random.Random, index: int, edited: bool = False) -> str:
    """One manifest file: a Deployment and its Service (a realistic share of them
    with a footgun, from `bench.corpus`)."""
    name = f"app-{index}"
    namespace = f"team-{index % 7}"
    labels = {"app.kubernetes.io/name": name}
    selector = labels if rng.random() > 0.05 else {"app.kubernetes.io/name": name + "x"}
    kind = "LoadBalancer" if rng.random() < 0.05 else "ClusterIP"
    text = (
        corpus.deployment(rng, name, namespace, labels, labels, env_count=4)
        + "---\n"
        + corpus.service(name, namespace, selector, kind=kind, ports=[("http", 80, 8080, None)])
    )
    if edited:
        text = text.replace("  revisionHistoryLimit: 5\n", "  revisionHistoryLimit: 3\n")
    return text


def endpoint(method: str, path: str) -> str:
    path = re.sub(r"/[0-9a-f]{40}(\.\.\.[0-9a-f]{40})?", "/{sha}", path)
    path = re.sub(r"/\d+(?=/|$)", "/{n}", path)
    return f"{method} {path}"


class Case:
    def __init__(self, repo_size: int, changed: int) -> None:
        self.repo_size = repo_size
        self.changed = changed


def run_case(repo_size: int, changed: int, sync: bool, verbose: bool) -> dict:
    from tests.bot.harness import start_bot, stop_bot
    from tests.bot.test_app_flow import MANIFEST
    from tests.fakegithub.server import FakeGitHubServer
    from tests.fakegithub.state import FakeGitHub

    rng = random.Random(repo_size * 10_000 + changed)
    out: dict = {}
    with FakeGitHubServer(FakeGitHub()) as server, tempfile.TemporaryDirectory() as data:
        fake = server.fake
        fake.limits.content_per_minute = fake.limits.content_per_hour = None  # not a rate-limit test
        files = {f"k8s/team-{i % 7}/app-{i}.yaml": manifest(rng, i) for i in range(repo_size)}
        files["README.md"] = "# platform\n"
        fake.create_repo(REPO, files=files)
        fake.install("acme", repos=[REPO], permissions=MANIFEST["default_permissions"])
        fake.add_user("alice")
        fake.set_permission(REPO, "alice", "write")
        changes = {f"k8s/team-{i % 7}/app-{i}.yaml": manifest(rng, i, edited=i < repo_size) for i in range(changed)}
        pr = fake.open_pull_request(REPO, head="change", user="alice", changes=changes)
        bot = start_bot(fake, Path(data) / "data")
        try:
            fake.requests.clear()
            start = time.perf_counter()
            answer = bot.open(pr)
            assert answer.status_code == 202, answer.status_code
            bot.wait(timeout=600)
            out["opened"] = _calls(fake, time.perf_counter() - start, verbose)
            out["opened"]["reviews"] = len(bot.reviews(REPO, pr.number))
            if sync:
                path = next(iter(changes))
                fake.push(
                    REPO,
                    pr.number,
                    changes={path: changes[path].replace("replicas:", "replicas: 9\n  # was:\n  minReadySeconds:", 1)},
                )
                fresh = fake.pull_request(REPO, pr.number)
                fake.requests.clear()
                start = time.perf_counter()
                answer = bot.open(fresh, action="synchronize")
                assert answer.status_code == 202, answer.status_code
                bot.wait(timeout=600)
                out["synchronize"] = _calls(fake, time.perf_counter() - start, verbose)
        finally:
            stop_bot(bot)
    return out


def _calls(fake, seconds: float, verbose: bool) -> dict:
    records = fake.requests.all()
    by_endpoint = Counter(endpoint(r.method, r.path) for r in records)
    return {
        "calls": len(records),
        "seconds": seconds,
        "by_endpoint": by_endpoint,
        "failed": [f"{r.method} {r.path} {r.status}" for r in records if r.status >= 400],
    }


def show(label: str, result: dict, verbose: bool) -> None:
    print(f"  {label:44s} {result['calls']:4d} calls  ({result['seconds']:.1f} s)")
    if verbose:
        for name, count in result["by_endpoint"].most_common():
            print(f"      {count:4d}  {name}")
        for failed in result["failed"]:
            print(f"      answered with an error: {failed}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="footgun API budget against the fake GitHub")
    parser.add_argument("--repos", default="100,2000")
    parser.add_argument("--changes", default="10,250,1000")
    parser.add_argument("-v", "--verbose", action="store_true", help="calls per endpoint")
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.WARNING)
    for name in ("footgun", "huey", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)

    verdicts = []
    for repo_size in (int(s) for s in args.repos.split(",")):
        print(f"\nrepository of {repo_size:,} manifests")
        for changed in (int(s) for s in args.changes.split(",")):
            result = run_case(repo_size, changed, sync=changed == 10, verbose=args.verbose)
            opened = result["opened"]
            label = f"PR changing {changed:,} manifests, opened"
            show(label, opened, args.verbose)
            if changed == 250:
                ok = opened["calls"] <= TARGET_250
                verdicts.append(ok)
                print(f"    target <= {TARGET_250} calls: {'met' if ok else 'NOT MET'}")
            if "synchronize" in result:
                show("one-file synchronize of that PR (warm cache)", result["synchronize"], args.verbose)
                ok = result["synchronize"]["calls"] <= TARGET_SYNC
                verdicts.append(ok)
                print(f"    target <= {TARGET_SYNC} calls: {'met' if ok else 'NOT MET'}")
    print(f"\nall targets met: {'yes' if all(verdicts) else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
