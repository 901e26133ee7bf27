"""Engine benchmark: documents per second of a full scan, against a bare parse.

For each corpus size (500, 5,000, 50,000 documents, see `bench.corpus`), each
measurement in a fresh subprocess so that sizes and measurements do not pollute each
other, in CPU seconds of the measuring process and of the kustomize processes a scan
starts (what a busy shared machine inflates least; wall seconds are shown beside):

- the full scan, ``footgun.rules.engine.scan_paths`` on the corpus folder (walk, read, parse
  with line positions, index, every rule), interleaved in one process with the bare
  parse of the same files by the YAML loaders of the process that run libyaml
  (PyYAML's ``CSafeLoader`` and ruamel.yaml's C-parser ``typ="safe"`` loader, each
  reading the files itself), best of 3 (1 at 50,000, where only PyYAML's is timed);
  the ratio of the scan to the fastest of them;
- the peak of Python allocations during a scan (tracemalloc, below 50,000);
- then, over ``--rounds`` rounds alternating the sizes, the first scan of a fresh
  process that only imports the engine and scans: its CPU time (the least of the
  rounds) and its peak resident memory (``VmHWM``, the most of the rounds); and
  likewise the bare PyYAML parse in a fresh process. The 50,000/5,000 ratio of the
  scan's times is its growth, compared with the bare parse's own growth (what this
  machine gives any work on ten times the data). On a shared machine the same scan
  varies by a third from one process to the next (other tenants, never a faster
  machine): the least of several rounds is the estimate of the scan's own time;
- how many kustomize builds each scan rendered, in how many ``kustomize`` or
  ``kubectl kustomize`` processes (the corpora hold bases and overlays), the CPU
  those processes took, and the scan's time with builds turned off
  (``kustomize-build: false``: overlays judged as written), which tells the
  engine's own cost from kustomize's;
- checkov's time on the same corpus, in the same run (see `bench.checkov`; by
  default at the sizes up to 5,000 documents, where it takes about a minute: at
  50,000 it takes about ten, ``--checkov-sizes 500,5000,50000`` asks for it).

Targets: a scan within 2x of the bare parse at 5,000 and 50,000 documents; peak
RSS under 100 MiB at 5,000 documents and under 400 MiB at 50,000; growth within
1.1x of the bare parse's own growth.

Usage: ``python -m bench.engine [--sizes 500,5000,50000] [--rounds 5] [--stages]
[--profile SIZE] [--loaders] [--keep FOLDER] [--checkov-sizes 500,5000]``.
``--stages`` adds the CPU time of each stage and rule per size and its growth
(where a quadratic rule shows); ``--loaders`` prints which YAML loaders of the
process really run in C.
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

from bench import checkov  # noqa: E402
from bench.corpus import SIZES, generate  # noqa: E402

MIB = 2**20
TARGET_RATIO = 2.0
TARGET_RATIO_AT = (5_000, 50_000)
TARGET_MEMORY_MIB = {5_000: 100, 50_000: 400}
TARGET_GROWTH_OVER_PARSE = 1.1
CHECKOV_SIZES = "500,5000"


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
        rows.append(
            (
                "PyYAML CSafeLoader (load_all)",
                f"scan+parse+compose in C ({parser.__module__}: compiled={_compiled(parser)}); "
                f"constructor {yaml.constructor.SafeConstructor.__module__} in Python"
                if parser
                else "no libyaml: pure Python",
            )
        )
    except ImportError:
        rows.append(("PyYAML", "not installed"))
    from ruamel.yaml import YAML

    for typ, pure in (("safe", False), ("rt", False), ("safe", True)):
        y = YAML(typ=typ, pure=pure)
        parser = y.Parser
        where = "C" if _compiled(parser) else "Python"
        rows.append(
            (
                f"ruamel.yaml {typ}{' pure' if pure else ''}",
                f"parser+composer {parser.__module__}.{parser.__name__} in {where}; "
                f"constructor {y.Constructor.__name__} in Python",
            )
        )
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
class KustomizeRuns:
    """Counts the kustomize builds started in this process: every ``kustomize`` or
    ``kubectl kustomize`` process, however the engine starts it (all go through
    `subprocess.Popen`)."""

    def __init__(self) -> None:
        self.count = 0
        original = subprocess.Popen.__init__

        def counting(popen, args, *rest, **kwargs):
            argv = [args] if isinstance(args, (str, bytes, os.PathLike)) else list(args)
            words = [os.path.basename(os.fsdecode(a)) for a in argv[:2]]
            if words and (words[0] == "kustomize" or words[:2] == ["kubectl", "kustomize"]):
                self.count += 1
            original(popen, args, *rest, **kwargs)

        subprocess.Popen.__init__ = counting  # type: ignore[assignment]


def cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for: the
    kustomize builds a scan starts are part of its cost."""
    return time.process_time() + children_cpu()


def children_cpu() -> float:
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def child_time(folder: str, repeat: int, all_loaders: int = 1) -> dict:
    """Best of ``repeat`` of each bare parse and of the scan, interleaved, in CPU
    seconds of this process and of the kustomize processes it starts (what a busy
    shared machine does not inflate) and in wall seconds."""
    from footgun.rules.config import Config
    from footgun.rules.engine import scan_paths

    builds = KustomizeRuns()
    files = yaml_files(folder)
    parsers = bare_parsers()
    if not all_loaders:  # only the fastest, PyYAML's (the others are timed on smaller sizes)
        parsers = dict(list(parsers.items())[:1])
    cpu: dict[str, float] = {}
    wall: dict[str, float] = {}

    def timed(name: str, fn) -> object:
        wall_start, cpu_start = time.perf_counter(), cpu_seconds()
        out = fn()
        cpu[name] = min(cpu.get(name, float("inf")), cpu_seconds() - cpu_start)
        wall[name] = min(wall.get(name, float("inf")), time.perf_counter() - wall_start)
        return out

    docs = findings = built = 0
    kustomize_cpu = float("inf")
    for _ in range(repeat):  # interleaved, so drifts in machine load hit both
        for name, parse in parsers.items():
            docs = timed(name, lambda parse=parse: parse(files))
        children = children_cpu()
        result = timed("scan", lambda: scan_paths([folder]))
        kustomize_cpu = min(kustomize_cpu, children_cpu() - children)
        findings = len(result.findings)
        built = len({r.path for r in result.inventory.resources if r.path.endswith("#build")})
        del result
        timed("scan, builds off", lambda: scan_paths([folder], Config(kustomize_build=False)))
    return {
        "cpu": cpu,
        "wall": wall,
        "documents": docs,
        "findings": findings,
        "builds": built,
        "processes": builds.count // repeat,
        "kustomize_cpu": kustomize_cpu,
    }


def peak_rss() -> int:
    """This process's peak resident memory in bytes: Linux's ``VmHWM``, which starts
    afresh with the program (``ru_maxrss`` keeps the parent's peak across fork and
    exec: a child of a large process would report the parent's size)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def child_rss(folder: str) -> dict:
    from footgun.rules.engine import scan_paths

    builds = KustomizeRuns()
    before = peak_rss()
    start = cpu_seconds()
    result = scan_paths([folder])
    cpu = cpu_seconds() - start
    peak = peak_rss()
    return {
        "rss_before": before,
        "rss_peak": peak,
        "resources": len(result.inventory.resources),
        "cpu": cpu,
        "builds": builds.count,
    }


def child_bare(folder: str) -> dict:
    """The bare PyYAML parse in a fresh process: the growth the scan's compares with."""
    parse = next(iter(bare_parsers().values()))
    files = yaml_files(folder)
    start = time.process_time()
    parse(files)
    cpu = time.process_time() - start
    return {"cpu": cpu, "rss_peak": peak_rss()}


def child_tracemalloc(folder: str) -> dict:
    import tracemalloc

    from footgun.rules.engine import scan_paths

    tracemalloc.start()
    result = scan_paths([folder])
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"traced_peak": peak, "traced_kept": current, "resources": len(result.inventory.resources)}


def child_profile(folder: str) -> dict:
    import cProfile
    import io
    import pstats

    from footgun.rules.engine import scan_paths

    profile = cProfile.Profile()
    profile.enable()
    scan_paths([folder])
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(30)
    return {"profile": out.getvalue()}


def child_stages(folder: str) -> dict:
    """CPU seconds of each stage of one ``scan_paths``: the inventory and each rule
    are timed through wrappers, loading (walk, read, parse, resources) and the rest
    (suppression checks, sorting) are what remains."""
    import types

    from footgun.rules import engine
    from footgun.rules.checks import RULES

    clock = time.process_time
    spent: dict[str, float] = {}

    def timed_rule(rule_id: str, check):
        def run(ctx):
            found = iter(check(ctx))
            while True:
                start = clock()
                try:
                    item = next(found)
                except StopIteration:
                    spent[rule_id] = spent.get(rule_id, 0.0) + clock() - start
                    return
                spent[rule_id] = spent.get(rule_id, 0.0) + clock() - start
                yield item

        return run

    for rule_id, module in list(RULES.items()):
        proxy = types.SimpleNamespace(**vars(module))
        proxy.check = timed_rule(rule_id, module.check)
        RULES[rule_id] = proxy
    inventory_class = engine.Inventory

    def inventory(*args, **kwargs):
        start = clock()
        made = inventory_class(*args, **kwargs)
        spent["inventory"] = clock() - start
        return made

    engine.Inventory = inventory
    start = clock()
    engine.scan_paths([folder])
    total = clock() - start
    rest = total - sum(spent.values())
    rules_total = sum(v for k, v in spent.items() if k != "inventory")
    stages = {
        "load + rest (read, parse, suppress, sort)": rest,
        "inventory": spent.get("inventory", 0.0),
        **{k: v for k, v in spent.items() if k != "inventory"},
        "all rules": rules_total,
        "total": total,
    }
    return {"stages": stages}


CHILDREN = {
    "stages": child_stages,
    "time": child_time,
    "rss": child_rss,
    "bare": child_bare,
    "tracemalloc": child_tracemalloc,
    "profile": child_profile,
}


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
    parser.add_argument("--stages", action="store_true", help="also time each stage and rule of a scan per size")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of fresh-process scans (memory, growth)")
    parser.add_argument("--keep", help="generate the corpora in this folder and keep them")
    parser.add_argument(
        "--checkov-sizes",
        default=CHECKOV_SIZES,
        help=f"sizes to time checkov at (default {CHECKOV_SIZES}; empty: none; see bench.checkov)",
    )
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        kind, folder, *extra = args.child
        print(json.dumps(CHILDREN[kind](folder, *(int(e) for e in extra))))
        return 0
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} CPUs")
    print("YAML loaders in this process:")
    for name, what in loader_report():
        print(f"  {name:30s} {what}")
    if args.loaders:
        return 0

    sizes = [args.profile] if args.profile else [int(s) for s in args.sizes.split(",")]
    checkov_sizes = {int(s) for s in args.checkov_sizes.split(",") if s.strip()}
    if checkov_sizes and checkov.executable() is None:
        print(f"checkov is not installed in {checkov.venv_dir()} (python -m bench.checkov --install): not timed")
        checkov_sizes = set()
    workdir = args.keep or tempfile.mkdtemp(prefix="footgun-bench-")
    print(
        f"corpora in {workdir}; times are CPU seconds of the measuring process and the kustomize "
        "processes it starts (wall in brackets)"
    )
    ratios: dict[int, tuple[float, float]] = {}
    stages: dict[int, dict[str, float]] = {}
    checkov_times: dict[int, checkov.Timing] = {}
    verdicts: list[bool] = []
    for size in sizes:
        folder = os.path.join(workdir, str(size))
        if not os.path.isdir(folder):
            generate(folder, size)
        corpus_files = yaml_files(folder)
        corpus_bytes = sum(os.path.getsize(f) for f in corpus_files)
        overlays = sum(1 for f in corpus_files if f.endswith("kustomization.yaml") and "/overlays/" in f)
        print(
            f"\n{size:,} documents: {len(corpus_files):,} files, {corpus_bytes / MIB:.1f} MiB, "
            f"{overlays:,} kustomize overlays"
        )
        if args.profile:
            print(run_child("profile", folder)["profile"])
            return 0
        big = size >= 50_000
        repeat = args.repeat or (1 if big else 3)
        timing = run_child("time", folder, str(repeat), "0" if big else "1")
        cpu, wall = timing["cpu"], timing["wall"]
        scan = cpu.pop("scan")
        as_written = cpu.pop("scan, builds off")
        print(
            f"  {'full scan (scan_paths)':42s}{scan:8.2f} s [{wall['scan']:6.2f}] "
            f"{size / scan:8,.0f} documents/s  {timing['findings']:,} findings, "
            f"{timing['builds']:,} kustomize builds in {timing['processes']:,} processes "
            f"({timing['kustomize_cpu']:.2f} s of kustomize CPU)"
        )
        print(
            f"  {'full scan, kustomize builds off':42s}{as_written:8.2f} s [{wall['scan, builds off']:6.2f}] "
            f"{size / as_written:8,.0f} documents/s"
        )
        for name, t in sorted(cpu.items(), key=lambda kv: kv[1]):
            print(
                f"  {'bare parse, ' + name:42s}{t:8.2f} s [{wall[name]:6.2f}] "
                f"{size / t:8,.0f} documents/s  scan is {scan / t:4.2f}x"
            )
        base_name = min(cpu, key=cpu.get)
        ratio = scan / cpu[base_name]
        ratios[size] = (scan, cpu[base_name])
        judged = size in TARGET_RATIO_AT
        if judged:
            verdicts.append(ratio <= TARGET_RATIO)
        print(
            f"  scan / fastest bare parse ({base_name}): {ratio:.2f}x"
            + (f" (target <= {TARGET_RATIO:g}x: {verdict(ratio <= TARGET_RATIO)})" if judged else "")
            + f"; with kustomize builds off: {as_written / cpu[base_name]:.2f}x"
        )
        if size in checkov_sizes:
            try:
                checkov_times[size] = found = checkov.time_checkov(folder)
            except RuntimeError as exc:
                print(f"  checkov: {exc}")
            else:
                print(
                    f"  {'checkov (kubernetes framework)':42s}{found.cpu:8.2f} s [{found.wall:6.2f}] "
                    f"{size / found.cpu:8,.0f} documents/s  {found.cpu / scan:.1f}x the scan's time "
                    f"({found.failed:,} failed checks over {found.resources:,} resources)"
                )
        if not big:  # tracing triples the time; at 50,000 the RSS figure says enough
            traced = run_child("tracemalloc", folder)
            print(f"  Python allocations peak {traced['traced_peak'] / MIB:.1f} MiB (tracemalloc)")
        if args.stages:
            stages[size] = run_child("stages", folder)["stages"]

    # Memory, and the times the growth compares: the first scan (and the first bare
    # parse) of a fresh process, sizes alternating over rounds, the least CPU and the
    # most memory of each size. Alternating spreads each size over the run, so a
    # moment when the machine is busy with something else does not fall on one size
    # only. (The timing runs' best of several scans in one warm process is for the
    # ratio to the bare parse, measured the same way.)
    print(f"\nfresh processes, {args.rounds} rounds over the sizes:")
    fresh: dict[int, dict] = {}
    bare: dict[int, float] = {}
    for _ in range(args.rounds):
        for size in sizes:
            folder = os.path.join(workdir, str(size))
            for _ in range(1 if size >= 50_000 else 2):
                sample = run_child("rss", folder)
                seen = fresh.setdefault(size, sample)
                seen["cpu"] = min(seen["cpu"], sample["cpu"])
                seen["rss_peak"] = max(seen["rss_peak"], sample["rss_peak"])
                bare[size] = min(bare.get(size, float("inf")), run_child("bare", folder)["cpu"])
    for size in sizes:
        sample = fresh[size]
        peak_mib = sample["rss_peak"] / MIB
        print(
            f"  {size:>6,} documents: scan {sample['cpu']:6.2f} s, peak RSS {peak_mib:6.1f} MiB "
            f"(interpreter and imports: {sample['rss_before'] / MIB:.1f} MiB), "
            f"{sample['builds']:,} kustomize processes; bare parse {bare[size]:6.2f} s"
        )
        if size in TARGET_MEMORY_MIB:
            target = TARGET_MEMORY_MIB[size]
            verdicts.append(peak_mib < target)
            print(
                f"  memory at {size:,} documents: peak RSS {peak_mib:.1f} MiB "
                f"(target < {target} MiB: {verdict(peak_mib < target)})"
            )
    if 5_000 in fresh and 50_000 in fresh:
        growth = fresh[50_000]["cpu"] / fresh[5_000]["cpu"]
        parse_growth = bare[50_000] / bare[5_000]
        over = growth / parse_growth
        verdicts.append(over <= TARGET_GROWTH_OVER_PARSE)
        print(
            f"growth, 50,000 / 5,000 documents, fresh processes: scan "
            f"{fresh[50_000]['cpu']:.2f} s / {fresh[5_000]['cpu']:.2f} s = {growth:.2f}x, bare parse "
            f"{bare[50_000]:.2f} s / {bare[5_000]:.2f} s = {parse_growth:.2f}x: the scan's growth is "
            f"{over:.2f}x the parse's (target <= {TARGET_GROWTH_OVER_PARSE:g}x: "
            f"{verdict(over <= TARGET_GROWTH_OVER_PARSE)})"
        )
        (scan_5k, parse_5k), (scan_50k, parse_50k) = ratios[5_000], ratios[50_000]
        print(f"  in the timing runs: scan {scan_50k / scan_5k:.2f}x, bare parse {parse_50k / parse_5k:.2f}x")
    if checkov_times:
        print("\ncheckov, same corpora, same run (CPU seconds; footgun's full scan from the timing runs):")
        for size, found in sorted(checkov_times.items()):
            scan = ratios[size][0]
            print(
                f"  {size:>6,} documents: checkov {found.cpu:7.2f} s, footgun {scan:6.2f} s: "
                f"footgun is {found.cpu / scan:.1f}x faster"
            )
    if stages:
        shown = sorted(stages)
        print(f"\n  {'stages, CPU s':42s}" + "".join(f"{s:>10,}" for s in shown) + "   growth of the last two")
        for name in stages[shown[-1]]:
            row = [stages[s].get(name, 0.0) for s in shown]
            growth_text = f"{row[-1] / row[-2]:8.1f}x" if len(row) > 1 and row[-2] > 0.005 else ""
            print(f"  {name:42s}" + "".join(f"{t:10.3f}" for t in row) + f"   {growth_text}")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    if not (5_000 in fresh and 50_000 in fresh):
        print("\n(growth not measured: it takes the 5,000 and 50,000 sizes)")
    print(f"\nall targets measured met: {'yes' if all(verdicts) else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
