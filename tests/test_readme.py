"""The README's examples work as written."""

from __future__ import annotations

from pathlib import Path

from ruamel.yaml import YAML

from footgun.rules.config import parse_config

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_the_configuration_example_is_a_valid_config():
    section = README.split("### Configuration: `.footgun.yml`", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(YAML(typ="safe").load(example))
    assert not config.rule("load-balancer-per-service").enabled
    assert config.rule("ingress-without-tls").severity == "error"


def test_the_readme_opens_with_the_install_and_test_commands():
    blocks = README.split("```sh\n")[1:3]
    assert "footgun scan examples/" in blocks[0]
    assert "pytest" in blocks[1] and "'.[test]'" in blocks[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert blocks[1].split("```")[0].strip() in ci
