"""How the API budget benchmark groups calls by endpoint."""

from __future__ import annotations

from bench.api_budget import endpoint


def test_endpoints_group_shas_and_numbers():
    sha = "a" * 40
    assert endpoint("GET", f"/repos/acme/web/git/trees/{sha}") == "GET /repos/acme/web/git/trees/{sha}"
    assert endpoint("GET", f"/repos/acme/web/compare/{sha}...{'b' * 40}") == "GET /repos/acme/web/compare/{sha}"
    assert endpoint("PATCH", "/repos/acme/web/check-runs/1234") == "PATCH /repos/acme/web/check-runs/{n}"
    assert endpoint("POST", "/app/installations/7/access_tokens") == "POST /app/installations/{n}/access_tokens"
