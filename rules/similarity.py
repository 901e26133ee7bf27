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

Even a few integer operations per pair stay quadratic when every string of a large
set is tested against each query. A `TextIndex` holds the set once and answers
"which strings may reach this bound?" by looking up a few of the query's
(character, nth occurrence) bits and its word-wise prefixes, then testing only
those: it finds exactly the strings a test of every one would.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from difflib import SequenceMatcher
from typing import Generic, NamedTuple, TypeVar

PREFIX_SCORE = 0.8
_SEPARATORS = "-_./"
_CACHE_MAX = 100_000
_MASKED_LENGTH = 253  # a DNS name's length; label values have at most 63 characters
_BITS_MAX = 2048  # (character, nth occurrence) pairs given a bit: masks stay under 256 bytes


# Slack on the thresholds the index derives counts from, so that float rounding in
# the bound itself can never make the index drop a string the bound keeps.
_SLACK = 1e-6

Item = TypeVar("Item", bound=Hashable)


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
    return bool(wa and wb and (wa[: len(wb)] == wb or wb[: len(wa)] == wa))


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


class TextIndex(Generic[Item]):
    """Items under the `Text`s given for them, for `near` and `similar_near`.

    Why it finds every string a full test would: two strings of lengths m and n
    whose ratio bound reaches t share at least c = t(m + n)/2 (character, nth
    occurrence) bits, so the other string lacks at most m - c of the query's m bits
    and holds one of any m - c + 1 of them. So per length n (only those at which
    c <= min(m, n) can hold) the index looks up the query's m - c + 1 rarest bits
    (rarest over all lengths: one sort per query). A word-wise prefix (`similar`'s
    0.8) needs one word list to begin the other: both are looked up by word tuples.
    """

    def __init__(self) -> None:
        self._texts: dict[str, Text] = {}  # lowered string -> its Text
        self._items: dict[str, list[Item]] = {}
        self._postings: dict[int, dict[int, list[str]]] = {}  # length -> bit -> strings
        self._by_length: dict[int, list[str]] = defaultdict(list)
        self._bit_counts: dict[int, int] = defaultdict(int)  # bit -> strings holding it
        self._unbounded: list[str] = []  # strings without a mask: every bound with them is 1.0
        self._by_words: dict[tuple[str, ...], list[str]] = defaultdict(list)
        self._by_word_prefix: dict[tuple[str, ...], list[str]] = defaultdict(list)

    def add(self, text: Text, item: Item) -> None:
        items = self._items.get(text.lowered)
        if items is None:
            items = self._items[text.lowered] = []
            self._texts[text.lowered] = text
            self._file(text)
        items.append(item)

    def __len__(self) -> int:
        return len(self._texts)

    def near(self, query: Text, threshold: float) -> list[Item]:
        """The items whose text has ``ratio_bound(query, text) >= threshold``, in no
        particular order."""
        return self._items_of(self._within(query, threshold))

    def similar_near(self, query: Text, threshold: float) -> list[Item]:
        """The items whose text has ``similar_bound(query, text) >= threshold``, in
        no particular order."""
        # `similar_bound` is the ratio bound, or the prefix score where that is higher
        found = self._within(query, threshold)
        if threshold <= PREFIX_SCORE + _SLACK:
            prefixed = self._prefix_candidates(query).difference(found)
            found.extend(k for k in prefixed if similar_bound(query, self._texts[k]) >= threshold)
        return self._items_of(found)

    # --- building --------------------------------------------------------------

    def _file(self, text: Text) -> None:
        key = text.lowered
        if text.mask is None:
            self._unbounded.append(key)
        else:
            self._by_length[text.length].append(key)
            postings = self._postings.get(text.length)
            if postings is None:
                postings = self._postings[text.length] = defaultdict(list)
            for bit in _bits(text.mask):
                postings[bit].append(key)
                self._bit_counts[bit] += 1
        found = tuple(_cached_words(key))
        if found:
            self._by_words[found].append(key)
            for end in range(1, len(found) + 1):
                self._by_word_prefix[found[:end]].append(key)

    # --- looking up ------------------------------------------------------------

    def _within(self, query: Text, threshold: float) -> list[str]:
        """The strings whose ratio bound with ``query`` reaches the threshold."""
        if query.mask is None:
            return list(self._texts) if 1.0 >= threshold else []
        texts, lowered, mask, length = self._texts, query.lowered, query.mask, query.length
        # `ratio_bound` inline: it runs for every candidate
        return [
            k
            for k in self._ratio_candidates(query, threshold)
            if (
                1.0
                if k == lowered or (t := texts[k]).mask is None
                else 2.0 * (mask & t.mask).bit_count() / (length + t.length)
            )
            >= threshold
        ]

    def _ratio_candidates(self, query: Text, threshold: float) -> set[str]:
        """A superset of the strings whose ratio bound with ``query`` reaches the
        threshold."""
        if query.mask is None:
            return set(self._texts)  # the bound is 1.0 with every string
        found = set(self._unbounded)
        if query.lowered in self._texts:
            found.add(query.lowered)
        counts = self._bit_counts
        bits = sorted(_bits(query.mask), key=lambda bit: counts.get(bit, 0))
        for length in self._lengths_within(query.length, threshold):
            postings = self._postings.get(length)
            if postings is None:
                continue
            need = math.ceil(threshold * (query.length + length) / 2 - _SLACK)  # bits shared, at least
            if need > min(query.length, length):
                continue  # more shared bits than one of them has
            if need <= 0:
                found.update(self._by_length[length])
                continue
            for bit in bits[: query.length - need + 1]:
                found.update(postings.get(bit, ()))
        return found

    def _lengths_within(self, length: int, threshold: float) -> list[int]:
        """The lengths n whose ratio bound with a string of ``length`` characters can
        reach ``threshold``: 2 min(m, n) / (m + n) >= t, give or take one."""
        if threshold <= 0:
            return list(self._postings)
        if threshold > 1:
            return []  # a bound is at most 1.0, reached by equal strings (looked up apart)
        low = math.floor(length * threshold / (2 - threshold)) - 1
        high = math.ceil(length * (2 - threshold) / threshold) + 1
        if high - low < len(self._postings):
            return list(range(max(low, 0), high + 1))
        return [n for n in self._postings if low <= n <= high]

    def _prefix_candidates(self, query: Text) -> set[str]:
        """The strings whose words begin the query's, or begin with them."""
        found = tuple(_cached_words(query.lowered))
        if not found:
            return set()
        keys = set(self._by_word_prefix.get(found, ()))
        for end in range(1, len(found) + 1):
            keys.update(self._by_words.get(found[:end], ()))
        return keys

    def _items_of(self, keys: Iterable[str]) -> list[Item]:
        return [item for key in keys for item in self._items[key]]


def _bits(mask: int) -> list[int]:
    """The set bits of ``mask``, each as an int with that bit alone."""
    found = []
    while mask:
        low = mask & -mask
        found.append(low)
        mask ^= low
    return found
