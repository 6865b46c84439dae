"""The floors, the never-arrows and the absence of circles of docs/architecture.md, read from
every module's imports with `ast` (imports inside functions count as much as the others)."""

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
} | {"notifications.rules"}
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


# --- Floors: every import points down (or along its floor), never up ----------------------

ENTRY, TRANSPORT_FLOOR, WORKFLOWS, DOMAIN, RULES_FLOOR, GROUND = 5, 4, 3, 2, 1, 0
FLOOR_NAMES = {5: "entry", 4: "transport", 3: "workflows", 2: "domain", 1: "rules", 0: "ground"}

TRANSPORT_NAMES = {
    "views",
    "urls",
    "api",
    "serializers",
    "forms",
    "admin",
    "admin_views",
    "auth_views",
    "middleware",
    "context_processors",
    "widgets",
    "removal",  # the deletion-reason form and page shared by the record views
    "form_recovery",  # a view decorator and middleware
    "dashboard_views",
    "dashboard_urls",
    "self_report_views",
}
DOMAIN_MODULES = {"accounts.access", "audit.services", "patients.versioning"}


def floor(module: str) -> int:
    parts = module.split(".")
    top, last = parts[0], parts[-1]
    if top == "core":
        return GROUND
    if module in RULES:
        return RULES_FLOOR
    if top in ("trdtracker", "demo") or last == "apps" or "management" in parts:
        return ENTRY
    if top == "api" or last in TRANSPORT_NAMES or "templatetags" in parts:
        return TRANSPORT_FLOOR
    if last == "models" or module in DOMAIN_MODULES:
        return DOMAIN
    return WORKFLOWS


def project_graph(modules: dict[str, str]) -> dict[str, set[str]]:
    """{module: the project modules it imports}; a package's empty `__init__` is left out."""
    graph = {}
    for module, source in modules.items():
        targets = set()
        for name in imports_of(module, source):
            # "from treatments import trd" names treatments.trd; "from .models import Trial"
            # names treatments.models.Trial: the module is the longest known prefix.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and not name.endswith("__init__"):
                targets.add(name)
        graph[module] = targets
    return graph


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} ({FLOOR_NAMES[floor(module)]}) imports {target} ({FLOOR_NAMES[floor(target)]})"
        for module, targets in sorted(graph.items())
        for target in sorted(targets)
        if floor(target) > floor(module)
    ]


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm, iterative)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return found


def test_package_inits_import_nothing_but_the_celery_app():
    inits = {m: s for m, s in project_modules() if m.endswith("__init__")}
    assert {m for m, s in inits.items() if imports_of(m, s)} == {"trdtracker.__init__"}


def test_every_import_points_down_a_floor_or_along_it():
    assert upward_imports(project_graph(dict(project_modules()))) == []


def test_no_circle_of_modules():
    assert circles(project_graph(dict(project_modules()))) == []


def test_the_floor_check_fails_on_a_deliberately_upward_import():
    modules = {
        "treatments.models": "from treatments.services import trial_create\n",
        "treatments.services": "from .models import Trial\n",
        "patients.services": "from patients.views import patient_list\n",
        "patients.views": "",
    }
    assert upward_imports(project_graph(modules)) == [
        "patients.services (workflows) imports patients.views (transport)",
        "treatments.models (domain) imports treatments.services (workflows)",
    ]


def test_the_circle_check_finds_a_circle_hidden_in_a_function():
    modules = {
        "reports.services": "def enqueue():\n    from .tasks import run\n",
        "reports.tasks": "from . import services\n",
        "reports.views": "from . import services, tasks\n",
    }
    assert circles(project_graph(modules)) == [["reports.services", "reports.tasks"]]


def test_floors_of_known_modules():
    assert [
        floor(m)
        for m in (
            "core.dates",
            "treatments.trd",
            "treatments.models",
            "accounts.access",
            "patients.scope",
            "reports.exporters",
            "treatments.views",
            "api.serializers",
            "accounts.twofactor.views",
            "trdtracker.settings",
            "demo.seed",
        )
    ] == [GROUND, RULES_FLOOR, DOMAIN, DOMAIN, WORKFLOWS, WORKFLOWS] + [TRANSPORT_FLOOR] * 3 + [
        ENTRY
    ] * 2
