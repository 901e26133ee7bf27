"""SourceFile.line answers from line offsets exactly as from the split lines."""
from __future__ import annotations

import random

import pytest

from rules.manifests import SourceFile

BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def _expected(text: str, number: int):
    try:
        return text.splitlines(keepends=True)[number - 1].rstrip("\r\n")
    except IndexError:
        return IndexError


def _got(source: SourceFile, number: int):
    try:
        return source.line(number)
    except IndexError:
        return IndexError


@pytest.mark.parametrize("seed", range(5))
def test_line_matches_splitlines_for_every_line_break(seed):
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(["a", "b ", "#c", *BREAKS]) for _ in range(rng.randint(0, 14)))
        count = len(text.splitlines())
        for number in range(-2, count + 3):
            assert _got(SourceFile("f.yaml", text), number) == _expected(text, number), (text, number)


def test_line_does_not_split_the_whole_text():
    source = SourceFile("f.yaml", "a: 1\r\nb: 2\n")
    assert source.line(2) == "b: 2"
    assert "lines" not in source.__dict__
    assert source.lines == ["a: 1\r\n", "b: 2\n"]
    assert source.line(1) == "a: 1"
