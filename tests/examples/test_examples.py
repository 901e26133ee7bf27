"""The bundled examples: each file shows its footgun, `footgun fix` turns the folder
into the correct counterparts kept here (``fixed/``), and those are silent."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from footgun.rules.config import Config
from footgun.rules.engine import scan_paths
from footgun.rules.fixer import fix_paths

ROOT = Path(__file__).resolve().parents[2]
FOOTGUNS = ROOT / "examples" / "footguns"
FIXED = Path(__file__).parent / "fixed"
RULE_OF_FILE = {p.name: p.stem.split("-", 1)[1] for p in FOOTGUNS.glob("*.yaml")}


def test_there_is_one_example_per_footgun():
    from footgun.rules.checks import ORDER

    assert sorted(RULE_OF_FILE.values()) == sorted(ORDER)


@pytest.mark.parametrize("name", sorted(RULE_OF_FILE))
def test_each_example_shows_its_footgun_and_only_it(name):
    result = scan_paths([str(FOOTGUNS)], Config())
    rules_here = {f.rule for f in result.findings if Path(f.path).name == name}
    assert rules_here == {RULE_OF_FILE[name]}
    assert all(f.fix for f in result.findings if Path(f.path).name == name)


def test_fix_turns_the_examples_into_their_correct_counterparts(tmp_path):
    work = tmp_path / "footguns"
    shutil.copytree(FOOTGUNS, work)
    report = fix_paths([str(work)], Config())
    assert report.remaining.findings == []
    assert sorted(p.name for p in FIXED.glob("*.yaml")) == sorted(RULE_OF_FILE)
    for fixed in sorted(FIXED.glob("*.yaml")):
        assert (work / fixed.name).read_text() == fixed.read_text(), fixed.name


def test_correct_counterparts_are_silent():
    result = scan_paths([str(FIXED)], Config())
    assert result.findings == [] and result.skipped == []
