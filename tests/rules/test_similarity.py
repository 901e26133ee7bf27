"""The similarity bounds never say "cannot match" for strings that do match."""

from __future__ import annotations

import random
from collections import Counter

from footgun.rules import similarity
from footgun.rules.similarity import prepare, ratio_bound, similar, similar_bound, typo

WORDS = [
    "api",
    "api-server",
    "apiserver",
    "web",
    "web-v2",
    "worker",
    "billing",
    "billing-web",
    "orders",
    "order",
    "cart",
    "carts",
    "search",
    "serach",
    "auth",
    "oauth",
    "Auth-Server",
    "db",
    "x",
    "payments",
    "-api",
    "_api-x",
    ".web",
    "",
    "API",
]


def _pool(seed: int, alphabet: str) -> list[str]:
    rng = random.Random(seed)
    return WORDS + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 9))) for _ in range(60)]


def test_similar_scores_equal_prefix_and_typo():
    assert similar("API", "api") == 1.0
    assert similar("api", "api-server") == 0.8
    assert 0.8 < similar("search", "serach") < 1.0
    assert typo("api", "api-server") < 0.8


def test_similar_bound_is_never_below_similar():
    pool = _pool(7, "ab-c.d_e")
    for a in pool:
        for b in pool:
            assert similar_bound(prepare(a), prepare(b)) >= similar(a, b), (a, b)


def test_ratio_bound_is_never_below_typo_nor_a_similarity_above_a_prefix():
    pool = _pool(11, "aB-c.d_e")
    for a in pool:
        for b in pool:
            bound = ratio_bound(prepare(a), prepare(b))
            assert bound >= typo(a, b), (a, b)
            if similar(a, b) > similarity.PREFIX_SCORE:
                assert bound >= similar(a, b), (a, b)


def test_masks_count_common_characters_with_multiplicity():
    pool = _pool(3, "aab-c")
    for a in pool:
        for b in pool:
            common = sum((Counter(a.lower()) & Counter(b.lower())).values())
            assert (prepare(a).mask & prepare(b).mask).bit_count() == common, (a, b)


def test_long_values_get_the_trivial_bound():
    assert ratio_bound(prepare("a" * 100_000), prepare("a" * 99_999)) == 1.0
    assert prepare("a" * 300).mask is None


def test_masks_stop_growing_past_the_bit_table(monkeypatch):
    monkeypatch.setattr(similarity, "_occurrence_bits", {})
    monkeypatch.setattr(similarity, "_prepared", {})
    monkeypatch.setattr(similarity, "_BITS_MAX", 8)
    assert prepare("abcd").mask is not None
    assert prepare("efghijkl").mask is None  # would need bits 9 to 12
    assert ratio_bound(prepare("efghijkl"), prepare("abcd")) == 1.0
    assert similar_bound(prepare("abcd"), prepare("efghijkl")) == 1.0
    assert max(similarity._occurrence_bits.values()).bit_length() <= 8
