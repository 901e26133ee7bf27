"""SourceFile.line answers from line offsets exactly as from the split lines, and
lines are git's: only LF, CRLF and CR end one (not the other breaks of
``str.splitlines``)."""

from __future__ import annotations

import random

import pytest

from footgun.rules.manifests import SourceFile

BREAKS = ["\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]


def git_lines(text: str) -> list[str]:
    """Lines with their endings, character by character as git splits them."""
    lines, current, i = [], "", 0
    while i < len(text):
        current += text[i]
        if text[i] == "\r" and text[i + 1 : i + 2] == "\n":
            current += "\n"
            i += 1
        if current[-1] in "\r\n":
            lines.append(current)
            current = ""
        i += 1
    return lines + ([current] if current else [])


def _expected(text: str, number: int):
    try:
        return git_lines(text)[number - 1].rstrip("\r\n")
    except IndexError:
        return IndexError


def _got(source: SourceFile, number: int):
    try:
        return source.line(number)
    except IndexError:
        return IndexError


@pytest.mark.parametrize("seed", range(5))
def test_line_matches_gits_lines_for_every_line_break(seed):
    rng = random.Random(seed)
    for _ in range(2000):
        text = "".join(rng.choice(["a", "b ", "#c", *BREAKS]) for _ in range(rng.randint(0, 14)))
        count = len(git_lines(text))
        assert SourceFile("f.yaml", text).lines == git_lines(text)
        assert SourceFile("f.yaml", text).line_count == count
        for number in range(-2, count + 3):
            assert _got(SourceFile("f.yaml", text), number) == _expected(text, number), (text, number)


def test_line_does_not_split_the_whole_text():
    source = SourceFile("f.yaml", "a: 1\r\nb: 2\n")
    assert source.line(2) == "b: 2"
    assert "lines" not in source.__dict__
    assert source.lines == ["a: 1\r\n", "b: 2\n"]
    assert source.line(1) == "a: 1"
    assert "lines" not in source.__dict__  # a scan keeps every text, not its lines too
