"""The never-arrows of docs/architecture.md, read from every module's imports with `ast`."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "accounts",
    "api",
    "audit",
    "core",
    "demo",
    "imports",
    "notifications",
    "patients",
    "reports",
    "treatments",
    "trdtracker",
}
RULES = {
    f"treatments.{name}"
    for name in (
        "trd",
        "measured",
        "staging",
        "warnings",
        "scales",
        "timeline",
        "options",
        "trial_figures",
        "definitions",
        "diagnosis",
        "catalog",
        "worklist",
    )
}
RULE_MAY_IMPORT = {"yaml"}
TRANSPORT = ("api", "rest_framework", "knox.views")
TRANSPORT_SUFFIXES = (".views", ".serializers", ".api")
DOMAIN_SUFFIXES = (".models", ".services", ".selectors", ".tasks")


def imports_of(module: str, source: str) -> set[str]:
    """The absolute names `source` (the text of `module`) imports, relative ones resolved."""
    package = module.rsplit(".", 1)[0] if not module.endswith("__init__") else module
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def violations(module: str, source: str) -> list[str]:
    found = []
    names = imports_of(module, source)
    top = {name.split(".")[0] for name in names}
    if module in RULES:
        for name in sorted(names):
            first = name.split(".")[0]
            if name in RULES or any(name.startswith(f"{rule}.") for rule in RULES):
                continue
            if name == "treatments" or first in RULE_MAY_IMPORT:
                continue
            if first in APPS or first in {"django", "celery", "rest_framework", "knox"}:
                found.append(f"{module}: a rule imports {name}")
    if module.startswith("core."):
        found += [f"{module}: core imports the app {app}" for app in sorted(top & APPS - {"core"})]
    if not module.startswith(("demo.", "tests.")) and "demo" in top:
        found.append(f"{module}: imports demo")
    if module in RULES or module.endswith(DOMAIN_SUFFIXES):
        for name in sorted(names):
            if name.startswith(TRANSPORT) or name.endswith(TRANSPORT_SUFFIXES):
                found.append(f"{module}: the domain imports the transport {name}")
    return found


def project_modules():
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT)
        if relative.parts[0] not in APPS or "migrations" in relative.parts:
            continue
        yield ".".join(relative.with_suffix("").parts), path.read_text(encoding="utf-8")


def test_no_module_imports_across_a_never_arrow():
    modules = list(project_modules())
    assert len(modules) > 100  # the walk found the project
    found = [line for module, source in modules for line in violations(module, source)]
    assert found == []


BAD = {
    "treatments.trd": "from django.db import models\n",
    "treatments.warnings": "from .models import Trial\n",
    "core.dates": "from patients.models import Patient\n",
    "reports.services": "from demo.seed import seed_demo\n",
    "treatments.services": "from api.serializers import TrialSerializer\n",
    "patients.models": "from rest_framework import serializers\n",
}


def test_each_rule_fails_on_a_deliberately_bad_import():
    for module, source in BAD.items():
        assert violations(module, source), module


def test_allowed_imports_pass():
    assert violations("treatments.definitions", "from . import measured, scales, trd\n") == []
    assert violations("treatments.options", "import yaml\n") == []
    assert violations("demo.seed", "from treatments.services import trial_create\n") == []
    assert violations("api.views", "from rest_framework import generics\n") == []
