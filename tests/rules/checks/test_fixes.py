"""The properties every fix must have, checked on every case of every rule: it
edits only files deployed with its finding's resource (never another example),
and applied, the files are valid YAML, the rule no longer fires on that resource
and field, and no other finding appears that was not there before."""

from __future__ import annotations

import pytest

from tests.helpers import apply_fix, case_config, case_id, case_paths, fingerprints, parses, read_case, scan_texts


def _fixable_cases():
    for case in case_paths():
        files = read_case(case)
        result = scan_texts(files, case_config(case))
        for finding in result.findings:
            if finding.fix:
                yield pytest.param(case, files, finding, id=f"{case_id(case)}:{finding.line}:{finding.rule}")


@pytest.mark.parametrize("case, files, finding", list(_fixable_cases()))
def test_fix_is_valid_and_effective(case, files, finding):
    config = case_config(case)
    before = scan_texts(files, config)
    units = before.inventory.units
    for path in {e.path for e in finding.fix.edits}:
        assert path == finding.path or units.roots(path) & units.roots(finding.path), (
            f"the fix edits {path}, which is not deployed with {finding.path}"
        )
    fixed = apply_fix(files, finding.fix)
    for path in {e.path for e in finding.fix.edits}:
        assert parses(fixed[path]), f"{path} is not valid YAML after the fix:\n{fixed[path]}"
    after = scan_texts(fixed, config)
    assert not after.skipped or {s.path for s in after.skipped} <= {s.path for s in before.skipped}
    assert finding.fingerprint not in fingerprints(after.findings), "the rule still fires after its fix"
    new = fingerprints(after.findings) - fingerprints(before.findings)
    assert not new, f"the fix made new findings appear: {new}"


def test_there_are_fixes_to_check():
    assert list(_fixable_cases())
