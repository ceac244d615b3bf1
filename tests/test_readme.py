"""The README's two commands stay true: CI runs the test command verbatim."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    section = ROOT.joinpath("README.md").read_text().split("## Two commands on a fresh machine")[1]
    section = section.split("\n## ")[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_readme_has_the_two_commands_and_ci_runs_the_test_one() -> None:
    main_job, tests = _readme_commands()
    assert main_job.endswith("genbench run")
    assert tests.endswith("python -m pytest")
    ci_lines = ROOT.joinpath(".ci", "run").read_text().splitlines()
    assert tests in ci_lines
