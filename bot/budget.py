"""What one analysis of a change may use."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any


@dataclass
class Budget:
    """What one analysis may use (``FOOTGUN_MAX_FILES``, ``FOOTGUN_MAX_BYTES``,
    ``FOOTGUN_ENGINE_SECONDS``, ``FOOTGUN_ENGINE_MEMORY_MB``), and how long GitHub may
    still be working on a write the App gave up on (``FOOTGUN_WRITE_SETTLE``)."""

    max_files: int = 10_000
    max_bytes: int = 64 * 1024 * 1024
    engine_seconds: float = 120.0
    engine_memory_mb: int = 2048
    settle: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> Budget:
        return cls(
            settings.max_files,
            settings.max_bytes,
            settings.engine_seconds,
            settings.engine_memory_mb,
            settings.write_settle,
        )

    @classmethod
    def unlimited(cls) -> Budget:
        """No cap on what is read (a local repository, read by its owner's command)."""
        return cls(sys.maxsize, sys.maxsize)

    def describe(self) -> str:
        return f"{self.max_files:,} files and {self.max_bytes / (1024 * 1024):,.0f} MB"
