"""Progress of a long scan on a terminal: one line on standard error, redrawn in
place, then erased. Never on a pipe or a file (CI logs, ``2> log``): there it would
only add noise, so `for_stream` gives None."""

from __future__ import annotations

import time
from typing import TextIO

STAGES = {"files": "reading files", "rules": "running rules"}
REDRAW_EVERY = 0.1  # seconds between two redraws of the same stage


class TerminalProgress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._stage: str | None = None
        self._drawn_at = 0.0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        if stage == self._stage and now - self._drawn_at < REDRAW_EVERY:
            return
        self._stage, self._drawn_at = stage, now
        self.stream.write(f"\r\033[Kfootgun: {STAGES.get(stage, stage)} {done}/{total}")
        self.stream.flush()

    def clear(self) -> None:
        """Erase the line before the results are printed."""
        if self._stage is not None:
            self.stream.write("\r\033[K")
            self.stream.flush()


def for_stream(stream: TextIO) -> TerminalProgress | None:
    isatty = getattr(stream, "isatty", None)
    return TerminalProgress(stream) if isatty and isatty() else None
