"""The README contract (first code block: run, then test), and docs that stay true to the code."""

from __future__ import annotations

import re

from config.settings import PROJECT_ROOT, Settings

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^```[^\n]*\n(.*?)^```", text, re.M | re.S)


def test_first_code_block_is_run_then_test() -> None:
    assert _code_blocks(README)[0].splitlines() == ["make up", "make test"]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    commands = [line for line in ci.splitlines() if line and not line.startswith((" ", "#", "\t"))]
    assert commands[-1] == _code_blocks(README)[0].splitlines()[1]


def test_make_targets_exist() -> None:
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("bootstrap", "up", "test", "lint", "bench", "migration"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    assert "$(VENV)/nongedai up" in makefile and "$(VENV)/pytest" in makefile


def test_bootstrap_installs_what_the_readme_says() -> None:
    bootstrap = (PROJECT_ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    for pkg in ("fonts-noto-cjk", "libharfbuzz-subset0", "libpango-1.0-0", "libpangoft2-1.0-0", "poppler-utils"):
        assert pkg in bootstrap and pkg in README


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        env = "DATABASE_URL" if name == "database_url" else f"NONGEDAI_{name.upper()}"
        assert f"`{env}`" in README, f"{env} is missing from the README's settings table"


def test_the_settings_table_names_only_real_settings() -> None:
    table = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    for env in re.findall(r"`NONGEDAI_(\w+)`", table):
        assert env.lower() in Settings.model_fields, f"NONGEDAI_{env} is documented but not a setting"


def test_linked_docs_exist() -> None:
    for link in re.findall(r"\]\((docs/[^)]+)\)", README):
        assert (PROJECT_ROOT / link).is_file(), link
