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
# frameworks by the prefix of their top-level module (flask, flask_babel, flask_wtf …) → who may use them
FRAMEWORKS = {"flask": {"web"}, "werkzeug": {"web"}, "celery": {"workers"}, "kombu": {"workers"}}


def framework_of(name: str) -> str | None:
    return next((f for f in FRAMEWORKS if name == f or name.startswith(f + "_")), None)


def imports_of(path: Path) -> tuple[set[str], list[int]]:
    """Top-level names imported, and the lines of relative imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names, relative = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                relative.append(node.lineno)
            elif node.module:
                names.add(node.module.split(".")[0])
    return names, relative


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_follow_the_layer_arrows(package):
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        names, relative = imports_of(path)
        for name in names:
            if name in PACKAGES and name != package and name not in ALLOWED[package]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
            framework = framework_of(name)
            if framework and package not in FRAMEWORKS[framework]:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
        # a relative import hides which layer it reaches into: every import names its package
        wrong += [f"{path.relative_to(ROOT)}:{line} imports relatively" for line in relative]
    assert wrong == []


def test_the_layer_check_catches_what_it_claims(tmp_path):
    """The checker itself: a framework by prefix, werkzeug, a relative import."""
    probe = tmp_path / "probe.py"
    probe.write_text("import flask_babel\nfrom werkzeug import Response\nfrom ..engine import db\n")
    names, relative = imports_of(probe)
    assert {framework_of(n) for n in names} == {"flask", "werkzeug"} and relative == [3]


def test_engine_names_no_process():
    """engine/ never branches on a process key or form name."""
    process_keys = {p.stem for p in (ROOT / "processes").rglob("*.bpmn")}
    forms = {p.stem for p in (ROOT / "forms").rglob("*.json")}
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path.name}: {name}" for name in process_keys | forms if name in text]
    assert offenders == []


def modules_imported(path: Path) -> set[str]:
    """Full dotted names of what ``path`` imports (``from a.b import c`` gives a.b and a.b.c)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


SYSTEMS = sorted(p.parent.name for p in (ROOT / "services").glob("*/module.py"))


def test_the_platform_imports_no_system_and_no_system_imports_another():
    """A process module (services/<system>/ with a module.py) reaches the platform only through its
    ProcessModule; the platform never names a system, and systems never name each other. Only the
    composition root lists them."""
    assert SYSTEMS, "no process module found"
    wrong = []
    for path in sorted((ROOT / "services").rglob("*.py")):
        part = path.relative_to(ROOT / "services").parts[0]
        for name in modules_imported(path):
            pieces = name.split(".")
            if len(pieces) < 2 or pieces[0] != "services" or pieces[1] not in SYSTEMS:
                continue
            if path.name == "bootstrap.py" and path.parent == ROOT / "services":
                continue
            if pieces[1] != part:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_the_web_platform_names_no_system():
    """web/ outside web/<system>/ never imports a system's services or screens; a system's screens
    (web/<system>/) import only their own system (and the platform)."""
    wrong = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        parts = path.relative_to(ROOT / "web").parts
        own = parts[0] if len(parts) > 1 and parts[0] in SYSTEMS else None
        for name in modules_imported(path):
            pieces = name.split(".")
            if len(pieces) >= 2 and pieces[0] in ("services", "web") and pieces[1] in SYSTEMS and pieces[1] != own:
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []
