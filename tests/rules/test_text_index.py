"""similarity.TextIndex finds exactly the strings a test of every string finds."""

from __future__ import annotations

import random

import pytest

from footgun.rules import similarity
from footgun.rules.similarity import TextIndex, prepare, ratio_bound, similar_bound

THRESHOLDS = (0.0, 0.3, 0.6, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0)


def _strings(rng: random.Random, alphabet: str, count: int) -> list[str]:
    words = [
        "api",
        "api-server",
        "web",
        "web-v2",
        "billing",
        "cart",
        "carts",
        "search",
        "serach",
        "Auth-Server",
        "-api",
        "_api-x",
        ".web",
        "",
        "API",
        "a" * 300,
    ]
    made = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14))) for _ in range(count)]
    return words + made


def _index(strings: list[str]) -> TextIndex[int]:
    index: TextIndex[int] = TextIndex()
    for item, text in enumerate(strings):
        index.add(prepare(text), item)
    return index


SEARCHES = {  # the index's look-up, the bound it answers for, the strings' alphabet, odd queries
    "near": ("near", ratio_bound, "aab-c.d_eE1", ["api-serve", "xyz", ""]),
    "similar_near": ("similar_near", similar_bound, "ab-c.d_e-", ["api-server-x", "web", "-"]),
}


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("seed", range(12))
def test_lookups_equal_testing_every_string(seed, search):
    method, bound, alphabet, odd = SEARCHES[search]
    rng = random.Random(seed)
    strings = _strings(rng, alphabet, 150)
    index = _index(strings)
    for query in rng.sample(strings, 40) + odd:
        q = prepare(query)
        for threshold in THRESHOLDS:
            every = sorted(i for i, s in enumerate(strings) if bound(q, prepare(s)) >= threshold)
            assert sorted(getattr(index, method)(q, threshold)) == every, (query, threshold)


def test_items_of_one_string_are_all_found():
    index: TextIndex[str] = TextIndex()
    index.add(prepare("api"), "deployment")
    index.add(prepare("API"), "pod")
    index.add(prepare("worker"), "job")
    assert len(index) == 2  # strings are held lowercased, once
    assert sorted(index.near(prepare("apj"), 0.6)) == ["deployment", "pod"]
    assert index.near(prepare("apj"), 0.9) == []


def test_strings_without_a_mask_are_always_candidates(monkeypatch):
    monkeypatch.setattr(similarity, "_occurrence_bits", {})
    monkeypatch.setattr(similarity, "_prepared", {})
    monkeypatch.setattr(similarity, "_BITS_MAX", 8)
    strings = ["abcd", "efghijkl", "abce", "zz"]  # the second needs more bits than the table holds
    index = _index(strings)
    for query in strings + ["abcdefghijkl"]:
        q = prepare(query)
        for threshold in THRESHOLDS:
            every = sorted(i for i, s in enumerate(strings) if ratio_bound(q, prepare(s)) >= threshold)
            assert sorted(index.near(q, threshold)) == every, (query, threshold)


def test_a_large_set_is_pruned_not_scanned():
    # names as a platform repository's: word, suffix, and a number once taken
    rng = random.Random(5)
    taken: dict[str, int] = {}
    names = []
    for _ in range(3000):
        base = rng.choice(["cart", "billing", "search", "orders", "ledger", "geo", "feed", "media"]) + rng.choice(
            ["", "-web", "-worker", "-svc", "-admin", "-sync"]
        )
        taken[base] = taken.get(base, 0) + 1
        names.append(base if taken[base] == 1 else f"{base}-{taken[base]}")
    index = _index(names)
    for query in ["ledger-syncx", "billing-worker-12", "geo-admn"]:
        q = prepare(query)
        assert len(index._ratio_candidates(q, 0.9)) < len(names) / 4
        every = sorted(i for i, s in enumerate(names) if ratio_bound(q, prepare(s)) >= 0.9)
        assert sorted(index.near(q, 0.9)) == every
