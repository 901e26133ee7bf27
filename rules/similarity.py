"""How alike two names or label values are, and a cheap upper bound of it.

`similar` ranks candidates (which Deployment did a Service's selector mean?): 1.0
for equal strings, 0.8 for a word-wise prefix (``api`` / ``api-server``), else
difflib's ratio (a one-letter typo in a short word is about 0.9). `typo` is the
ratio alone.

difflib costs a quadratic match per pair, so a rule facing a large namespace first
asks the bounds: the number of characters two strings share, counted with
multiplicity, bounds difflib's ratio from above (it is difflib's ``quick_ratio``).
`prepare` turns a string into a `Text` whose characters are a bit set of
(character, nth occurrence), so that number is one ``&`` and a bit count.
"""
from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import NamedTuple

PREFIX_SCORE = 0.8
_SEPARATORS = "-_./"
_CACHE_MAX = 100_000
_MASKED_LENGTH = 253  # a DNS name's length; label values have at most 63 characters
_BITS_MAX = 2048  # (character, nth occurrence) pairs given a bit: masks stay under 256 bytes


class Text(NamedTuple):
    lowered: str
    mask: int | None  # None: no bound worth its cost (too long, or the bit table is full)
    length: int


def similar(a: str, b: str) -> float:
    a, b = a.lower(), b.lower()
    if a == b:
        return 1.0
    ratio = SequenceMatcher(None, a, b).ratio()
    return max(ratio, PREFIX_SCORE) if _word_prefix(words(a), words(b)) else ratio


def typo(a: str, b: str) -> float:
    a, b = a.lower(), b.lower()
    return 1.0 if a == b else SequenceMatcher(None, a, b).ratio()


def words(text: str) -> list[str]:
    return [w for w in re.split(r"[-_./]+", text) if w]


def ratio_bound(a: Text, b: Text) -> float:
    """At least `typo`, and at least `similar` wherever that is above the prefix score."""
    if a.lowered == b.lowered or a.mask is None or b.mask is None:
        return 1.0
    return 2.0 * (a.mask & b.mask).bit_count() / (a.length + b.length)


def similar_bound(a: Text, b: Text) -> float:
    """At least `similar`."""
    bound = ratio_bound(a, b)
    first_a, first_b = a.lowered[:1], b.lowered[:1]
    # a word-wise prefix needs the same first word: the same first character, unless
    # one of them starts with a separator
    if bound < PREFIX_SCORE and (first_a == first_b or first_a in _SEPARATORS or first_b in _SEPARATORS):
        if _word_prefix(_cached_words(a.lowered), _cached_words(b.lowered)):
            return PREFIX_SCORE
    return bound


def prepare(text: str) -> Text:
    found = _prepared.get(text)
    if found is None:
        lowered = text.lower()
        mask = _character_mask(lowered) if len(lowered) <= _MASKED_LENGTH else None
        found = Text(lowered, mask, len(lowered))
        if len(_prepared) < _CACHE_MAX:
            _prepared[text] = found
    return found


def _word_prefix(wa: list[str], wb: list[str]) -> bool:
    return bool(wa and wb and (wa[:len(wb)] == wb or wb[:len(wa)] == wa))


# Per string, cached: the same workload names and labels come back for every
# Service of a namespace.
_prepared: dict[str, Text] = {}
_occurrence_bits: dict[tuple[str, int], int] = {}
_words_of: dict[str, list[str]] = {}


def _character_mask(text: str) -> int | None:
    """None once the table of bits is full (hostile input with thousands of distinct
    characters): the bounds are then the trivial 1.0."""
    mask = 0
    seen: dict[str, int] = {}
    for char in text:
        nth = seen[char] = seen.get(char, 0) + 1
        bit = _occurrence_bits.get((char, nth))
        if bit is None:
            if len(_occurrence_bits) >= _BITS_MAX:
                return None
            bit = _occurrence_bits[(char, nth)] = 1 << len(_occurrence_bits)
        mask |= bit
    return mask


def _cached_words(text: str) -> list[str]:
    found = _words_of.get(text)
    if found is None:
        found = words(text)
        if len(_words_of) < _CACHE_MAX:
            _words_of[text] = found
    return found
