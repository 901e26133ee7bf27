"""Renderings of a scan result: ``text`` for people, ``json`` (for tools), ``sarif``
(2.1.0, for code scanning) and ``github`` (Actions workflow commands)."""

from __future__ import annotations

from collections.abc import Callable

from ..engine import ScanResult
from . import github, json, sarif, text

FORMATS: dict[str, Callable[..., str]] = {
    "text": text.render,
    "json": json.render,
    "sarif": sarif.render,
    "github": github.render,
}


def render(result: ScanResult, fmt: str, **options) -> str:
    return FORMATS[fmt](result, **options)
