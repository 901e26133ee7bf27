"""Engine benchmark: documents per second of a full scan, against a bare parse.

For each corpus size (500, 5,000, 50,000 documents, see `bench.corpus`) it measures,
in a fresh subprocess per size and per measurement so sizes and measurements do not
pollute each other:

- the full scan, ``rules.engine.scan_paths`` on the corpus folder (walk, read, parse
  with line positions, index, every rule);
- the bare parse of the same files by the fastest YAML loader in the process that
  runs libyaml (PyYAML's ``CSafeLoader`` and ruamel.yaml's C-parser ``typ="safe"``
  loader, each reading the files itself), interleaved with the scan, best of N;
- the peak resident memory of a process that only imports the engine and scans
  (``ru_maxrss``), and the peak of Python allocations during the scan (tracemalloc,
  in its own process because tracing slows everything down);

then the 50,000/5,000 time ratio. Targets: a scan within 3x of the bare parse, under
150 MiB at 5,000 documents, and linear growth (10x the documents within 11x the time).

Usage: ``python -m bench.engine [--sizes 500,5000,50000] [--repeat N] [--profile SIZE]``.
``--loaders`` prints which YAML loaders of the process really run in C, and the time
each takes on the 5,000-document corpus.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import SIZES, generate  # noqa: E402

MIB = 2 ** 20
TARGET_RATIO = 3.0
TARGET_MEMORY_MIB = 150
TARGET_MEMORY_AT = 5_000
TARGET_GROWTH = 11.0


# ---- what runs in C ------------------------------------------------------------------
def _compiled(cls: type) -> bool:
    """Whether ``cls`` is defined by a compiled extension module."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", "") or ""
    return path.endswith((".so", ".pyd"))


def loader_report() -> list[tuple[str, str]]:
    """(loader, what of it runs in C) for each YAML loader in the process."""
    rows = []
    try:
        import yaml

        parser = yaml.CSafeLoader.__mro__[1] if yaml.__with_libyaml__ else None
        rows.append(("PyYAML CSafeLoader (load_all)",
                     f"scan+parse+compose in C ({parser.__module__}: compiled={_compiled(parser)}); "
                     f"constructor {yaml.constructor.SafeConstructor.__module__} in Python"
                     if parser else "no libyaml: pure Python"))
    except ImportError:
        rows.append(("PyYAML", "not installed"))
    from ruamel.yaml import YAML

    for typ, pure in (("safe", False), ("rt", False), ("safe", True)):
        y = YAML(typ=typ, pure=pure)
        parser = y.Parser
        where = "C" if _compiled(parser) else "Python"
        rows.append((f"ruamel.yaml {typ}{' pure' if pure else ''}",
                     f"parser+composer {parser.__module__}.{parser.__name__} in {where}; "
                     f"constructor {y.Constructor.__name__} in Python"))
    return rows


def yaml_files(folder: str) -> list[str]:
    out = []
    for base, dirs, names in os.walk(folder):
        dirs.sort()
        out.extend(os.path.join(base, n) for n in sorted(names) if n.endswith((".yaml", ".yml")))
    return out


def bare_parsers() -> dict:
    """Loaders that turn each file into Python data with libyaml, reading the files."""
    parsers = {}
    try:
        import yaml

        if yaml.__with_libyaml__:
            loader = yaml.CSafeLoader

            def pyyaml(files: list[str]) -> int:
                n = 0
                for path in files:
                    with open(path, "rb") as handle:
                        n += sum(1 for _ in yaml.load_all(handle.read(), Loader=loader))
                return n

            parsers["PyYAML CSafeLoader"] = pyyaml
    except ImportError:
        pass
    from ruamel.yaml import YAML

    y = YAML(typ="safe")
    if _compiled(y.Parser):
        def ruamel_safe(files: list[str]) -> int:
            n = 0
            for path in files:
                with open(path, "rb") as handle:
                    n += sum(1 for _ in y.load_all(handle.read().decode()))
            return n

        parsers["ruamel.yaml safe (C parser)"] = ruamel_safe
    return parsers


# ---- children --------------------------------------------------------------------------
def child_time(folder: str, repeat: int) -> dict:
    from rules.engine import scan_paths

    files = yaml_files(folder)
    parsers = bare_parsers()
    best: dict[str, float] = {}
    docs = findings = 0
    for _ in range(repeat):  # interleaved, so drifts in machine load hit both
        for name, parse in parsers.items():
            start = time.perf_counter()
            docs = parse(files)
            best[name] = min(best.get(name, float("inf")), time.perf_counter() - start)
        start = time.perf_counter()
        result = scan_paths([folder])
        best["scan"] = min(best.get("scan", float("inf")), time.perf_counter() - start)
        findings = len(result.findings)
        del result
    return {"times": best, "documents": docs, "findings": findings}


def child_rss(folder: str) -> dict:
    import resource

    from rules.engine import scan_paths

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    result = scan_paths([folder])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"rss_before": before, "rss_peak": peak, "resources": len(result.inventory.resources)}


def child_tracemalloc(folder: str) -> dict:
    import tracemalloc

    from rules.engine import scan_paths

    tracemalloc.start()
    result = scan_paths([folder])
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"traced_peak": peak, "traced_kept": current, "resources": len(result.inventory.resources)}


def child_profile(folder: str) -> dict:
    import cProfile
    import io
    import pstats

    from rules.engine import scan_paths

    profile = cProfile.Profile()
    profile.enable()
    scan_paths([folder])
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
    return {"profile": out.getvalue()}


CHILDREN = {"time": child_time, "rss": child_rss, "tracemalloc": child_tracemalloc, "profile": child_profile}


def run_child(kind: str, folder: str, *extra: str) -> dict:
    cmd = [sys.executable, "-m", "bench.engine", "--child", kind, folder, *extra]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- report ----------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="footgun engine benchmark")
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--repeat", type=int, default=0, help="timing repeats (default: 3, 1 at 50,000)")
    parser.add_argument("--profile", type=int, help="print a cProfile of the scan of this size and stop")
    parser.add_argument("--loaders", action="store_true", help="print which loaders run in C and stop")
    parser.add_argument("--keep", help="generate the corpora in this folder and keep them")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, folder, *extra = args.child
        fn = CHILDREN[kind]
        print(json.dumps(fn(folder, *(int(e) for e in extra))))
        return 0

    if args.loaders:
        for name, what in loader_report():
            print(f"  {name:28s} {what}")
        return 0

    sizes = [args.profile] if args.profile else [int(s) for s in args.sizes.split(",")]
    workdir = args.keep or tempfile.mkdtemp(prefix="footgun-bench-")
    results = {}
    print(f"python {sys.version.split()[0]}, corpora in {workdir}")
    print("YAML loaders:")
    for name, what in loader_report():
        print(f"  {name:28s} {what}")
    for size in sizes:
        folder = os.path.join(workdir, str(size))
        if not os.path.isdir(folder):
            corpus = generate(folder, size)
            print(f"\ncorpus {size:,}: {corpus.describe()}")
        if args.profile:
            print(run_child("profile", folder)["profile"])
            return 0
        repeat = args.repeat or (1 if size >= 50_000 else 3)
        timing = run_child("time", folder, str(repeat))
        rss = run_child("rss", folder)
        traced = run_child("tracemalloc", folder)
        times = timing["times"]
        scan = times.pop("scan")
        base_name = min(times, key=times.get)
        base = times[base_name]
        results[size] = scan
        print(f"  full scan       {scan:8.3f} s  {size / scan:9,.0f} documents/s  ({timing['findings']:,} findings)")
        for name, t in sorted(times.items(), key=lambda kv: kv[1]):
            print(f"  {name:28s} {t:8.3f} s  {size / t:9,.0f} documents/s  scan/parse {scan / t:5.2f}x")
        ratio = scan / base
        print(f"  scan / fastest bare parse ({base_name}): {ratio:.2f}x "
              f"(target <= {TARGET_RATIO:g}x: {verdict(ratio <= TARGET_RATIO)})")
        peak_mib = rss["rss_peak"] / MIB
        line = (f"  peak RSS {peak_mib:6.1f} MiB (after imports {rss['rss_before'] / MIB:.1f} MiB); "
                f"traced Python allocations peak {traced['traced_peak'] / MIB:.1f} MiB")
        if size == TARGET_MEMORY_AT:
            line += f" (target < {TARGET_MEMORY_MIB} MiB peak RSS: {verdict(peak_mib < TARGET_MEMORY_MIB)})"
        print(line)
    if 5_000 in results and 50_000 in results:
        growth = results[50_000] / results[5_000]
        print(f"\ngrowth: 50,000 / 5,000 documents scan time {growth:.2f}x "
              f"(target <= {TARGET_GROWTH:g}x: {verdict(growth <= TARGET_GROWTH)})")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
