"""action.yml: its own steps' commands, run as the runner runs them (bash, with the
inputs and step outputs substituted), on the bundled examples."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

pytestmark = pytest.mark.slow  # installs footgun as the action does

ROOT = Path(__file__).resolve().parents[2]
ACTION = YAML(typ="safe").load((ROOT / "action.yml").read_text())
EXPRESSION = re.compile(r"\$\{\{\s*([^}]+?)\s*\}\}")


def _inputs(**given: str) -> dict[str, str]:
    defaults = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    unknown = set(given) - set(defaults)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    return {**defaults, **given}


def _evaluate(text: str, inputs: dict[str, str], runner_temp: Path) -> str:
    """The few expressions the Action uses; any other fails the test."""

    def value(match: re.Match) -> str:
        name = match.group(1)
        if name.startswith("inputs."):
            return inputs[name.removeprefix("inputs.")]
        if name == "github.action_path":
            return str(ROOT)
        if name == "steps.python.outputs.python-path":  # what actions/setup-python gives
            return sys.executable
        raise AssertionError(f"action.yml uses an expression the test does not know: {name}")

    return EXPRESSION.sub(value, text)


def run_action(workspace: Path, runner_temp: Path, skip_install: bool = False, **given: str) -> tuple[int, str, dict]:
    """Runs every ``run`` step in order, in ``workspace``; returns the last step's exit
    code and output, and the step outputs written to GITHUB_OUTPUT."""
    inputs = _inputs(**given)
    outputs_file = runner_temp / "github_output"
    outputs_file.write_text("")
    status, output = 0, ""
    for step in ACTION["runs"]["steps"]:
        if "run" not in step or (skip_install and step.get("name") == "Install footgun"):
            continue
        assert step["shell"] == "bash"
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/root"),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(outputs_file),
        }
        env.update({k: _evaluate(str(v), inputs, runner_temp) for k, v in step.get("env", {}).items()})
        assert "${{" not in step["run"], "inputs reach the script through env, never spliced into it"
        run = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workspace, env=env, capture_output=True, text=True)
        status, output = run.returncode, run.stdout + run.stderr
        if status:
            break
    outputs = dict(line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line)
    return status, output, outputs


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The install step, run once: footgun in a fresh virtualenv under RUNNER_TEMP."""
    runner_temp = tmp_path_factory.mktemp("runner_temp")
    workspace = tmp_path_factory.mktemp("workspace")
    install = next(step for step in ACTION["runs"]["steps"] if step.get("name") == "Install footgun")
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "RUNNER_TEMP": str(runner_temp)}
    env.update({k: _evaluate(str(v), _inputs(), runner_temp) for k, v in install["env"].items()})
    run = subprocess.run(["bash", "-e", "-c", install["run"]], cwd=workspace, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (runner_temp / "footgun-venv" / "bin" / "footgun").exists()
    return runner_temp


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A checkout holding the bundled examples."""
    subprocess.run(["cp", "-r", str(ROOT / "examples"), str(tmp_path / "examples")], check=True)
    return tmp_path


def test_default_is_annotations_on_the_examples_and_fails(installed, workspace):
    status, output, outputs = run_action(workspace, installed, skip_install=True, paths="examples")
    assert status == 1
    annotations = [line for line in output.splitlines() if line.startswith(("::error ", "::warning ", "::notice "))]
    files = {re.search(r"file=([^,]+)", line).group(1) for line in annotations}
    footguns = {f"examples/footguns/{p.name}" for p in (workspace / "examples" / "footguns").glob("*.yaml")}
    overlays = {
        "examples/kustomize/overlays/prod/service-load-balancer.yaml",
        "examples/kustomize/overlays/staging/service-canary.yaml",
    }  # each overlay's patch
    assert files == footguns | overlays
    assert outputs == {"report": ""}


def test_sarif_goes_to_a_file_for_the_upload_step(installed, workspace):
    status, output, outputs = run_action(workspace, installed, skip_install=True, paths="examples", format="sarif")
    assert status == 1 and outputs == {"report": "footgun.sarif"}
    sarif = json.loads((workspace / "footgun.sarif").read_text())
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    assert "report written to footgun.sarif" in output


def test_fail_level_config_and_several_paths(installed, workspace):
    (workspace / "lint.yml").write_text("rules:\n  service-selector-mismatch: false\n")
    status, output, _ = run_action(
        workspace,
        installed,
        skip_install=True,
        format="json",
        **{
            "paths": "examples/footguns/01-service-selector-mismatch.yaml\nexamples/footguns/06-hardcoded-node-port.yaml",
            "config": "lint.yml",
            "fail-level": "error",
        },
    )
    report = json.loads(output)
    rules = {f["rule"] for f in report["findings"]}
    assert "service-selector-mismatch" not in rules and "hardcoded-node-port" in rules
    assert {f["path"] for f in report["findings"]} <= {"examples/footguns/06-hardcoded-node-port.yaml"}
    failing = [f for f in report["findings"] if f["severity"] == "error"]
    assert status == (1 if failing else 0)


def test_clean_manifests_pass(installed, tmp_path):
    (tmp_path / "ok.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    status, output, _ = run_action(tmp_path, installed, skip_install=True)
    assert status == 0 and "::" not in output


def test_a_path_with_a_glob_character_is_not_expanded(installed, workspace):
    status, output, _ = run_action(workspace, installed, skip_install=True, paths="examples/*")
    assert status == 2 and "examples/*" in output
