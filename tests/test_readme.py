"""The README's two commands are the contract with a new developer and with CI."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```\n(.+?)\n```", section)


def test_readme_has_exactly_two_commands_demo_then_tests() -> None:
    demo, tests = readme_commands()
    assert demo.endswith("ecmbill demo")
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, tests = readme_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert tests in ci


def test_readme_names_every_package_ci_installs_for_the_tests() -> None:
    """What CI installs by hand, a developer must be told to install too."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    packages = re.findall(r"need\+=\(([\w-]+)\)", ci)
    assert {"postgresql", "chromium", "default-jre-headless"} <= set(packages)
    assert [p for p in packages if p not in readme] == []
