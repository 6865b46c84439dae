"""Starting a Celery task by its registered name.

A task is a thin caller of services, so it imports them; a service that starts a task after
its commit therefore names the task here instead of importing the task's module, and no file
imports back. The tasks are found the way the worker finds them (Celery's discovery of each
app's `tasks.py`); an unknown name raises NotRegistered rather than sending a message no
worker knows, and tests/test_task_queue.py checks every name the code passes here.
"""

from functools import cache

from celery import current_app


@cache
def _discover_tasks() -> None:
    current_app.loader.import_default_modules()


def task_named(name: str):
    """The registered task `name` ("reports.tasks.export_run_task"), to `delay` or `apply_async`."""
    _discover_tasks()
    return current_app.tasks[name]
