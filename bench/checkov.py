"""checkov, timed on the benchmarks' corpora, for a ratio measured rather than remembered.

checkov (https://www.checkov.io) scans Kubernetes manifests with its own catalogue of
policies; it is a heavier tool with other checks, the reference point a reader of
footgun's figures is likely to know. It is installed in the benchmarks' own virtual
environment, never in footgun's: ``python -m bench.checkov --install`` creates
``.bench-venv/`` at the repository root (or the folder ``FOOTGUN_BENCH_VENV`` names)
and runs ``pip install checkov`` there (PyPI must be reachable once).

It runs as ``checkov -d FOLDER --framework kubernetes --skip-download --quiet
--compact -o json`` (no network: ``--skip-download``), its output discarded; its
time is the CPU seconds of its process and the processes it waits for (what
``getrusage(RUSAGE_CHILDREN)`` counts), wall seconds beside.

Usage: ``python -m bench.checkov --install`` or ``python -m bench.checkov FOLDER``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import venv
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def venv_dir() -> Path:
    return Path(os.environ.get("FOOTGUN_BENCH_VENV") or ROOT / ".bench-venv")


def executable() -> Path | None:
    """checkov of the benchmarks' environment, if it is installed."""
    path = venv_dir() / "bin" / "checkov"
    return path if path.exists() else None


def install() -> Path:
    folder = venv_dir()
    if not (folder / "bin" / "python").exists():
        venv.create(folder, with_pip=True)
    subprocess.run([str(folder / "bin" / "python"), "-m", "pip", "install", "-q", "checkov"], check=True)
    found = executable()
    if found is None:
        raise RuntimeError(f"pip installed no checkov in {folder}")
    return found


@dataclass
class Timing:
    cpu: float  # seconds, its process and those it waited for
    wall: float
    resources: int  # what checkov counted as resources
    failed: int  # its failed checks


def time_checkov(folder: str, timeout: float | None = None) -> Timing:
    """One checkov run over ``folder``; raises RuntimeError when it fails or times out."""
    program = executable()
    if program is None:
        raise RuntimeError("checkov is not installed: python -m bench.checkov --install")
    command = [str(program), "-d", folder, "--framework", "kubernetes", "--skip-download", "--quiet", "--compact"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run([*command, "-o", "json"], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"checkov took more than {timeout:g} s") from exc
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    # exit status 1 means "some check failed", which it does on these corpora
    if done.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {done.returncode}: {done.stderr.strip()[-500:]}")
    reports = json.loads(done.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    summaries = [r.get("summary", {}) for r in reports]
    return Timing(
        cpu, wall, sum(s.get("resource_count", 0) for s in summaries), sum(s.get("failed", 0) for s in summaries)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="checkov in the benchmarks' environment")
    parser.add_argument("folder", nargs="?")
    parser.add_argument("--install", action="store_true", help=f"pip install checkov into {venv_dir()}")
    args = parser.parse_args(argv)
    if args.install:
        print(f"checkov installed: {install()}")
    if args.folder:
        timing = time_checkov(args.folder)
        print(
            f"checkov: {timing.cpu:.2f} s CPU [{timing.wall:.2f} s wall], "
            f"{timing.resources:,} resources, {timing.failed:,} failed checks"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
