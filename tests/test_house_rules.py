"""Rules of the house that a reviewer would otherwise have to remember."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ["betterwork", "factories", "assessments", "training", "advisory", "buyers", "reporting"]
# Which of our apps each app may import (DESIGN.md section 1): arrows point one way.
MAY_IMPORT = {
    "betterwork": set(),
    "factories": {"betterwork"},
    "assessments": {"betterwork", "factories"},
    "training": {"betterwork", "factories", "assessments"},
    "advisory": {"betterwork", "factories", "assessments", "training"},
    "buyers": {"betterwork", "factories", "assessments", "advisory"},
    "reporting": set(APPS) - {"reporting"},
}
VIEW_MODULES = ("views.py", "api.py", "admin_views.py")


def python_files(app: str) -> list[Path]:
    return [p for p in (ROOT / app).rglob("*.py") if "migrations" not in p.parts]


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(APPS)


@pytest.mark.parametrize("app", APPS)
def test_imports_point_one_way(app):
    for path in python_files(app):
        wrong = imported_apps(path) - MAY_IMPORT[app] - {app}
        assert not wrong, f"{path.relative_to(ROOT)} imports {sorted(wrong)}, against the arrows of DESIGN.md"


def test_views_reach_data_only_through_selectors_and_services():
    offenders = []
    for app in APPS:
        for path in python_files(app):
            if path.name not in VIEW_MODULES and not path.name.endswith(("_views.py", "_api.py")):
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Attribute) and node.attr == "objects":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, f"views call Model.objects directly (use a selector or service): {offenders}"


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)


def test_templates_have_no_inline_scripts_styles_or_handlers():
    problems = []
    for path in (ROOT / "templates").rglob("*.html"):
        text = path.read_text()
        for pattern, what in (
            (INLINE_SCRIPT, "inline script"),
            (INLINE_STYLE, "inline style"),
            (EVENT_HANDLER, "inline event handler"),
        ):
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                problems.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert not problems, "the Content Security Policy forbids these:\n" + "\n".join(problems)
