"""Seeded, bounded fuzzing of `footgun scan` and `footgun fix` through the command line.

Random and mutated manifests (the rule cases, with characters, lines and values of
the wrong type changed) and mutated configurations go through ``main`` in a child
process whose address space is capped and whose run time is bounded. Every run must
exit 0, 1 or 2, never with an internal error or a traceback, every file `fix` wrote
must parse, and a file `fix` did not edit must keep its bytes. A few seconds in the
normal run; ``pytest -m fuzz`` runs many more cases.
"""

from __future__ import annotations

import copy
import io
import json
import os
import random
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "rules" / "checks" / "cases"
MEMORY_CAP = 2 * 1024**3  # bytes of address space for the child
FORMATS = ("text", "json", "sarif", "github")

# Things that broke the engine once, or could: wrong types, hostile scalars, YAML
# syntax that changes structure.
VALUES = [
    "5",
    "{}",
    "[]",
    "''",
    "null",
    "true",
    "-1",
    "0x" + "f" * 600,
    "9" * 5000,
    "1e999",
    ".nan",
    "{a: b}",
    "[1, {x: y}]",
    "*nope",
    "&a x",
    "!!binary AAAA",
    "? k",
    '"\\e]0;x\\a"',
    '"a\u2028b"',
    "!!map {}",
    "[[[[[[]]]]]]",
    "'\x85'",
    "|\n  text",
    "0o777",
    "30080",
    "65536",
    '"\\x9b31m"',
]
SNIPPETS = [
    "\u2028",
    "\u2029",
    "\x85",
    "\r",
    "\r\n",
    "\t",
    "\x1b[2J",
    "&a ",
    "*a",
    "!!map ",
    "? ",
    ": ",
    "- ",
    "{",
    "[",
    "}",
    "]",
    "#",
    "---\n",
    "...\n",
    '"',
    "'",
    "{{ .Values.x }}",
    "<<: *a\n",
    "\ufeff",
    "%YAML 1.1\n",
]
CONFIG_KEYS = [
    "fail-level",
    "include",
    "exclude",
    "rules",
    "ingress-classes",
    "default-ingress-class",
    "node-port-range",
    "max-load-balancers",
    "deployment-unit",
    "ndots",
    "custom-workloads",
    "max-file-bytes",
    "max-depth",
    "max-nodes",
    "nope",
]


def corpus() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(CASES.rglob("*.yaml"))]


WRONG_TYPES = [5, {}, [], "", None, True, "x", {"a": "b"}, [1, {"x": "y"}], -1, 3.5, [[]], {"k": [5]}]


def mutate_structure(rng: random.Random, text: str) -> str:
    """``text`` with a few values anywhere in its documents replaced by values of
    other types (what rules that trust a field's type trip on)."""
    yaml = YAML(typ="safe")
    try:  # ruamel's own loader gives up on some texts (huge integers, say): then no change
        docs = [d for d in yaml.load_all(text) if d is not None]
        for _ in range(rng.randint(1, 3)):
            places = [(parent, key) for doc in docs for parent, key in _places(doc)]
            if places:
                parent, key = rng.choice(places)
                parent[key] = copy.deepcopy(rng.choice(WRONG_TYPES))
        out = io.StringIO()
        yaml.dump_all(docs, out)
    except (YAMLError, ValueError, TypeError, RecursionError):
        return text
    return out.getvalue()


def _places(node):
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in list(items):
        yield node, key
        yield from _places(value)


def mutate(rng: random.Random, text: str) -> str:
    if rng.random() < 0.4:
        return mutate_structure(rng, text)
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        index = rng.randrange(len(lines))
        if choice < 0.35 and ":" in lines[index]:  # a value of another type
            key, _, _ = lines[index].partition(":")
            lines[index] = f"{key}: {rng.choice(VALUES)}\n"
        elif choice < 0.6:  # a character or token inserted
            line = lines[index]
            at = rng.randint(0, len(line))
            lines[index] = line[:at] + rng.choice(SNIPPETS) + line[at:]
        elif choice < 0.7:
            del lines[index]
            lines = lines or [""]
        elif choice < 0.8:
            lines.insert(index, lines[rng.randrange(len(lines))])  # a duplicate key, often
        elif choice < 0.9:
            lines[index] = " " * rng.randint(0, 6) + lines[index].lstrip(" ")
        else:
            lines = lines[:index] or [""]
    return "".join(lines)


def random_config(rng: random.Random) -> str:
    lines = []
    for _ in range(rng.randint(0, 4)):
        lines.append(f"{rng.choice(CONFIG_KEYS)}: {rng.choice(VALUES + ['error', 'k8s/**', '[a/*, b]'])}")
    if rng.random() < 0.1:
        lines.append("exclude: [" + ", ".join(f"d{i}/**" for i in range(rng.choice((10, 1001)))) + "]")
    if rng.random() < 0.05:
        lines.append("include: " + "[" * rng.choice((30, 5000)))
    return "\n".join(lines) + "\n"


def run_cases(seed: int, count: int, work: str) -> list[str]:
    """Run ``count`` cases; the problems found, as text."""
    from footgun.cli.main import main
    from footgun.rules.yamltree import Limits, YAMLLimitError, YAMLParseError, parse_documents

    rng = random.Random(seed)
    texts = corpus()
    problems = []
    for number in range(count):
        folder = Path(work) / f"case{number}"
        folder.mkdir()
        files = {}
        for index in range(rng.randint(1, 3)):
            text = mutate(rng, rng.choice(texts))
            for _ in range(rng.choice((0, 0, 1, 3))):
                text = mutate(rng, text)
            files[f"m{index}.yaml"] = text.encode("utf-8", "surrogatepass")
        for name, raw in files.items():
            (folder / name).write_bytes(raw)
        if rng.random() < 0.3:
            (folder / ".footgun.yml").write_text(random_config(rng), encoding="utf-8")
        for args in (["scan", str(folder), "--format", rng.choice(FORMATS)], ["fix", str(folder)]):
            out, err = io.StringIO(), io.StringIO()
            try:
                with redirect_stdout(out), redirect_stderr(err):
                    code = main(args)
            except BaseException as exc:  # noqa: BLE001 - anything escaping main is the failure
                problems.append(f"seed {seed} case {number} {args[0]}: {type(exc).__name__}: {exc}")
                continue
            if code not in (0, 1, 2) or "internal error" in err.getvalue() or "Traceback" in err.getvalue():
                problems.append(f"seed {seed} case {number} {args[0]}: exit {code}: {err.getvalue()[:300]}")
        for name, raw in files.items():
            after = (folder / name).read_bytes()
            if after == raw:
                continue
            try:
                parse_documents(after.decode("utf-8").removeprefix("\ufeff"), Limits())
            except (YAMLParseError, YAMLLimitError, UnicodeDecodeError) as exc:
                problems.append(f"seed {seed} case {number}: fix left {name} unparseable: {exc}")
        shutil.rmtree(folder)
    return problems


def fuzz(seed: int, count: int, timeout: int) -> list[str]:
    """Run the cases in a child process with capped memory and time."""
    code = (
        f"import json, resource, sys, tempfile; "
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP})); "
        f"from tests.cli.test_fuzz import run_cases; "
        f"work = tempfile.mkdtemp(); print(json.dumps(run_cases({seed}, {count}, work)))"
    )
    try:
        child = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    except subprocess.TimeoutExpired:
        return [f"seed {seed}: {count} cases did not finish within {timeout} s"]
    if child.returncode != 0:
        return [f"seed {seed}: the fuzzing process failed ({child.returncode}): {child.stderr[-2000:]}"]
    return json.loads(child.stdout.splitlines()[-1])


@pytest.mark.slow
def test_fuzz_scan_and_fix_quick():
    assert fuzz(seed=17, count=150, timeout=300) == []


@pytest.mark.slow
@pytest.mark.fuzz
@pytest.mark.parametrize("seed", range(8))
def test_fuzz_scan_and_fix_long(seed):
    assert fuzz(seed=1000 + seed, count=2000, timeout=1800) == []
