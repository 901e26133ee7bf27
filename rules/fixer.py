"""``footgun fix``: apply every available fix in place, in the files' own style.

Fixes are applied in passes: each pass takes every fix whose edits do not overlap
an edit already taken, writes the files, and scans again, since one fix can make
another finding's lines move or disappear. A few passes settle any real tree.

No byte is lost on the way: every fix is validated before it is written (see
`footgun.rules.engine.validate_fixes`: it parses, its finding is gone, its rule finds
nothing new), files are keyed by their real path (a file named
twice, or reached through a symbolic link, gets one edit pass), a file that changed
since it was scanned is left alone, and each file is written atomically: a temporary
file in the same folder, flushed to disk, then renamed over the original with its
permissions. An interrupted or failed write leaves the original whole.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections import Counter
from dataclasses import dataclass

from .config import Config
from .edits import apply_edits
from .engine import ScanResult, choose_fixes, scan_paths, validate_fixes
from .manifests import SourceFile
from .model import Edit

MAX_PASSES = 5
BOM = "\ufeff"


class FixError(Exception):
    """A file could not be rewritten; the message names it. Files written before it
    stay written (each is whole), the rest untouched."""


@dataclass
class FixReport:
    changed: Counter  # path -> number of findings fixed there
    remaining: ScanResult


def fix_paths(paths: list[str], config: Config) -> FixReport:
    changed: Counter = Counter()
    result = scan_paths(paths, config)
    for _ in range(MAX_PASSES):
        validate_fixes(result, config)  # with the rules run again: what is written was checked
        chosen, _ = choose_fixes(result.findings)
        if not chosen:
            break
        by_file: dict[str, tuple[SourceFile, list[Edit]]] = {}
        for finding in chosen:
            for edit in finding.fix.edits if finding.fix else ():
                real = os.path.realpath(edit.path)
                by_file.setdefault(real, (result.sources[edit.path], []))[1].append(edit)
            changed[finding.path] += 1
        for real, (source, edits) in by_file.items():
            _rewrite(real, source, edits)
        result = scan_paths(paths, config)
    return FixReport(changed, result)


def _rewrite(path: str, source: SourceFile, edits: list[Edit]) -> None:
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FixError(f"{source.path}: cannot read it again: {exc}") from None
    bom = BOM if text.startswith(BOM) else ""
    if text.removeprefix(BOM) != source.text:
        raise FixError(f"{source.path}: changed while it was being fixed; left as it is")
    write_atomically(path, (bom + apply_edits(source.text, edits)).encode("utf-8"))


def write_atomically(path: str, data: bytes) -> None:
    """Replace file ``path`` by ``data`` so that, whatever happens, the file holds
    either its old or its new bytes; its permission bits (and, when allowed, owner)
    are kept."""
    folder, name = os.path.split(os.path.abspath(path))
    try:
        info = os.stat(path)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".footgun-tmp", dir=folder)
    except OSError as exc:
        raise FixError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with open(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, stat.S_IMODE(info.st_mode))
        try:
            os.chown(temporary, info.st_uid, info.st_gid)
        except OSError:
            pass  # not ours to give away: the file keeps its mode, with our ownership
        os.replace(temporary, path)
    except BaseException as exc:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise FixError(f"{path}: cannot write: {exc.strerror or exc}; the file is unchanged") from None
        raise
    _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX); best effort where folders cannot be
    opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
