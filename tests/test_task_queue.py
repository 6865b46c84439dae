"""Services start tasks by name (core.queue.task_named): every name the code gives is a task the
workers know, and an unknown one is refused rather than sent."""

import ast
import re
from pathlib import Path

import pytest
from celery.exceptions import NotRegistered

from core.queue import task_named

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("accounts", "api", "audit", "core", "demo", "imports", "notifications", "patients")
PARTS += ("reports", "trdtracker", "treatments")
TASK_NAME = re.compile(r"^[a-z_]+\.tasks\.[a-z_]+$")


def task_names_in_code() -> set[str]:
    names = set()
    for part in PARTS:
        for path in (ROOT / part).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if TASK_NAME.match(node.value):
                        names.add(node.value)
    return names


def test_every_task_name_in_the_code_is_a_registered_task():
    names = task_names_in_code()
    assert {
        "reports.tasks.export_run_task",
        "reports.tasks.dashboard_recompute_task",
        "imports.tasks.import_preview_task",
        "imports.tasks.import_confirm_task",
    } <= names
    for name in sorted(names):
        assert task_named(name).name == name


def test_an_unknown_task_name_is_refused():
    with pytest.raises(NotRegistered):
        task_named("reports.tasks.no_such_task")
