"""The import arrows of ARCHITECTURE.md, enforced: a wrong import fails the build."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {"engine", "services", "web", "workers"}
ALLOWED = {
    "engine": set(),
    "services": {"engine"},
    "web": {"services", "engine"},
    "workers": {"services", "engine"},
}
FRAMEWORKS = {"flask": {"web"}, "celery": {"workers"}}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_follow_the_layer_arrows(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in imports_of(path):
            if name in PACKAGES and name != package and name not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
            if name in FRAMEWORKS and package not in FRAMEWORKS[name]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_engine_names_no_process():
    """engine/ never branches on a process key or form name."""
    process_keys = {p.stem for p in (ROOT / "processes").glob("*.bpmn")}
    forms = {p.stem for p in (ROOT / "forms").glob("*.json")}
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {name}" for name in process_keys | forms if name in text]
    assert offenders == []
