"""The rule engine in a child process, with a deadline and a memory limit.

A pull request's manifests are hostile input. The engine refuses what it knows to be
dangerous (oversized files, alias bombs, deep nesting, binary or non-UTF-8 bytes), but
a worker must stay up whatever the input, and the analysis must end in bounded time
however large the repository is. So the engine runs in a child process forked from a
clean ``forkserver`` (not from the threaded worker), with ``RLIMIT_AS`` as its memory
limit (a kustomize build it starts gets the same budget as ``RLIMIT_DATA``, see
`footgun.rules.builds`); the parent waits at most ``seconds`` for its findings and
kills it after.

`scan` returns the findings and skipped files, or raises `EngineTimeout` or
`EngineFailed` (out of memory, crashed) with a message for the review.
"""

from __future__ import annotations

import logging
import multiprocessing
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Any

from footgun.rules.builds import NOT_RENDERED
from footgun.rules.config import Config
from footgun.rules.manifests import KUSTOMIZATION_NAMES
from footgun.rules.model import Finding, Skip

log = logging.getLogger("footgun.sandbox")

_context: Any = None
_context_lock = threading.Lock()


class EngineTimeout(Exception):
    pass


class EngineFailed(Exception):
    pass


def _mp():
    global _context
    with _context_lock:
        if _context is None:
            ctx = multiprocessing.get_context("forkserver")
            ctx.set_forkserver_preload(_preload())
            _context = ctx
        return _context


def _preload() -> list[str]:
    """Modules the fork server imports once, so a child starts at once: the engine,
    and what the main program imports (multiprocessing re-runs the main module's top
    level in each child; that is cheap once its imports are loaded)."""
    modules = ["footgun.rules.engine", "footgun.bot.sandbox", "footgun.bot.jobs"]
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is None and getattr(main, "__file__", None):
        modules.insert(0, "__main__")  # a script (console scripts, pytest): imported once, children skip it
    return modules


def _child(conn, files: Mapping[str, bytes], config: Config, validate: frozenset[str], memory_bytes: int) -> None:
    _child_call(conn, lambda: scan_and_check(files, config, validate), memory_bytes)


def scan_and_check(
    files: Mapping[str, bytes], config: Config, validate: frozenset[str] = frozenset()
) -> tuple[list[Finding], list[Skip]]:
    """The engine's findings and skips for ``files`` (manifests, and what builds read
    besides), with the scan's notes among the skips (`is_note`) and the fixes of
    findings in the ``validate`` files checked in full. What the sandbox's child runs,
    and what an unsandboxed engine runs in its own process."""
    from footgun.rules.engine import scan_files, validate_fixes

    manifests = {p: raw for p, raw in files.items() if not _build_input(p)}
    result = scan_files(manifests, config, {p: raw for p, raw in files.items() if _build_input(p)})
    if validate:
        validate_fixes(result, config, paths=validate)
    return _findings_and_skips(result)


def _build_input(path: str) -> bool:
    """A file read only for kustomize builds (a JSON patch, a generator's ``.env``):
    neither YAML nor a kustomization, so not judged (`bot.units` reads them)."""
    name = path.rsplit("/", 1)[-1]
    return not name.endswith((".yaml", ".yml")) and name not in KUSTOMIZATION_NAMES


def _findings_and_skips(result: Any) -> tuple[Any, Any]:
    """The findings, and the skips with the scan's notes among them (path ``.``, see
    `is_note`)."""
    return result.findings, result.skipped + [Skip(".", note) for note in result.notes]


def is_note(skip: Skip) -> bool:
    """Whether a skip the engine returned is a note on the whole scan (kustomizations
    not built: no kustomize on the App's machine), not a file left out."""
    return skip.path == "." and skip.reason == NOT_RENDERED


def _child_of(conn, function: Callable[..., Any], args: tuple, memory_bytes: int) -> None:
    _child_call(conn, lambda: (function(*args), None), memory_bytes)


def _child_call(conn, work: Callable[[], tuple[Any, Any]], memory_bytes: int) -> None:
    try:
        if memory_bytes:
            import resource

            # The soft limit binds the engine; the hard one is left as it was, so that a
            # kustomize build (a Go program, which reserves far more address space than
            # it uses) can trade it for the same limit on written memory (RLIMIT_DATA).
            _, hard = resource.getrlimit(resource.RLIMIT_AS)
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))
        first, second = work()
        conn.send(("ok", first, second))
    except MemoryError:
        conn.send(("memory", None, None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which decides
        conn.send(("error", f"{exc.__class__.__name__}: {exc}", None))
    finally:
        conn.close()


def scan(
    files: Mapping[str, bytes], config: Config, seconds: float, memory_mb: int, validate: frozenset[str] = frozenset()
) -> tuple[list[Finding], list[Skip]]:
    """The engine's findings and skipped files for ``files``, within the limits. The
    fixes of findings in the ``validate`` files are checked in full before they are
    returned: the edited file parses, the finding is gone, its rule finds nothing new
    (`footgun.rules.engine.validate_fixes`); those are the ones suggested on a pull request."""
    return _run(_child, (dict(files), config, validate), seconds, memory_mb)


def call(function: Callable[..., Any], args: tuple, seconds: float, memory_mb: int) -> Any:
    """``function(*args)`` (a module-level function that parses manifests) in the same
    kind of child process, within the same limits; its result."""
    result, _ = _run(_child_of, (function, args), seconds, memory_mb)
    return result


def _run(target: Callable[..., None], args: tuple, seconds: float, memory_mb: int) -> tuple[Any, Any]:
    ctx = _mp()
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=target, args=(sender, *args, memory_mb * 1024 * 1024), name="footgun-engine", daemon=True)
    proc.start()
    sender.close()
    try:
        if not receiver.poll(max(0.01, seconds)):
            raise EngineTimeout(f"the rule engine did not finish within {seconds:g} s")
        try:
            status, first, second = receiver.recv()
        except (EOFError, OSError):
            proc.join(1)
            raise EngineFailed(
                f"the rule engine's process died (exit code {proc.exitcode}), probably out of memory"
            ) from None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        receiver.close()
    if status == "ok":
        return first, second
    if status == "memory":
        raise EngineFailed(f"the rule engine ran out of memory (limit {memory_mb:,} MB)")
    raise EngineFailed(f"the rule engine failed: {first}")
