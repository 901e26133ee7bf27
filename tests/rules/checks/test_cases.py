"""Every case under cases/<rule-id>/ is an example: lines marked ``# expect: <rule>``
must carry exactly those findings; a case without marks is a "leave alone" case on
which its folder's rule must stay silent."""

from __future__ import annotations

import pytest

from tests.helpers import case_config, case_id, case_paths, expected_markers, read_case, scan_texts


@pytest.mark.parametrize("case", case_paths(), ids=case_id)
def test_case_findings_match_marks(case):
    files = read_case(case)
    expected = expected_markers(files)
    checked_rules = {case.parent.name} | {rule for _, _, rule in expected}
    result = scan_texts(files, case_config(case))
    found = {(f.path, f.line, f.rule) for f in result.findings if f.rule in checked_rules}
    assert found == expected, "\n".join(f"{f.path}:{f.line} {f.rule}: {f.message}" for f in result.findings)
