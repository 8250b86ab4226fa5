"""The README's commands are real: every `make X` is a target, every `billreel X` a command."""

from __future__ import annotations

import re
import subprocess

import click

from tests.paths import REPO_ROOT
from tests.realparts import require

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def makefile_targets() -> set[str]:
    """Targets from make's own database (`-p`), so included files and patterns count."""
    make = require("make")
    # `-q :` asks make only whether the `:` target is up to date: nothing is built.
    result = subprocess.run(
        [make, "-pRrq", "-f", "Makefile", ":"], cwd=REPO_ROOT, capture_output=True, text=True
    )
    targets: set[str] = set()
    not_a_target = False
    for line in result.stdout.splitlines():
        match = re.match(r"^([A-Za-z0-9_./-]+):(?!=)", line)
        if match and not not_a_target:
            targets.add(match.group(1))
        not_a_target = line.startswith("# Not a target:")
    return targets


def test_every_make_command_in_the_readme_is_a_target() -> None:
    mentioned = set(re.findall(r"\bmake ([a-z][a-z0-9_-]*)", README))
    assert {"demo", "test"} <= mentioned
    assert mentioned <= makefile_targets(), mentioned - makefile_targets()


def test_the_readme_shows_make_demo_and_make_test_first() -> None:
    first_block = README.split("```")[1]
    assert "make demo" in first_block
    assert "make test" in first_block
    assert README.index("make demo") < README.index("curl")


def test_ci_runs_make_test() -> None:
    script = (REPO_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash")
    assert "set -euo pipefail" in script
    commands = [line.strip() for line in script.splitlines() if not line.lstrip().startswith("#")]
    assert any(re.match(r"(exec )?make test\b", command) for command in commands), commands


def test_every_billreel_command_in_the_readme_exists() -> None:
    from app.cli import main

    assert isinstance(main, click.Group)
    code = "\n".join(re.findall(r"```.*?```|`[^`\n]+`", README, flags=re.DOTALL))
    mentioned = set(re.findall(r"\bbillreel ([a-z]+)(?: ([a-z]+))?", code))
    assert mentioned
    for command_name, sub_name in mentioned:
        command = main.commands.get(command_name)
        assert command is not None, f"README mentions `billreel {command_name}`"
        if isinstance(command, click.Group):
            assert sub_name in command.commands, (
                f"README mentions `billreel {command_name} {sub_name}`"
            )
