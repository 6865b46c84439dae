"""The production smoke test (`make smoke`): the compose stack, run as local processes.

No Docker daemon runs on the CI machines, so this runs the `command:` of each service in
docker-compose.yml (and the Dockerfile's collectstatic line) as processes, with `DEBUG=0`:
a fresh PostgreSQL database with an owner role and an application role, a Redis server of its
own on a free port, migrate as the owner, collectstatic, two gunicorn instances (2 workers each)
and two Celery workers as the application role, and beat. Then it checks what an operator would
check, and stops exactly what it started.

Needs a PostgreSQL superuser URL in SMOKE_ADMIN_DATABASE_URL (default: postgres on 127.0.0.1
with trust authentication, as on the CI machines) and `redis-server` on the PATH.
"""

import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, closing
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlparse

import psycopg2
import yaml
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "SMOKE_ADMIN_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)
PASSWORD = "smoke-" + secrets.token_urlsafe(16)
STARTUP_SECONDS = 60
EXPORT_SECONDS = 60


class SmokeFailure(AssertionError):
    pass


def check(condition, message):
    if not condition:
        raise SmokeFailure(message)
    print(f"  ok: {message}")


# -- what compose runs -------------------------------------------------------------------------


def compose_commands() -> dict[str, list[str]]:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    return {name: services[name]["command"] for name in ("migrate", "web", "worker", "beat")}


def collectstatic_command() -> list[str]:
    """The Dockerfile's collectstatic RUN line (its variables become the environment)."""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("RUN ") and "collectstatic" in line:
            return ["sh", "-c", line.removeprefix("RUN ")]
    raise SmokeFailure("the Dockerfile has no collectstatic line")


# -- processes ---------------------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Processes:
    """Everything this test starts, each in its own process group, stopped in reverse order."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen]] = []
        self.log_files = []

    def start(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # closed by stop_all
        self.log_files.append(log)
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, process))
        print(f"  started {name} (pid {process.pid}): {shlex.join(argv)}")
        return process

    def run(self, name: str, argv: list[str], env: dict) -> None:
        result = subprocess.run(
            argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        (self.logs / f"{name}.log").write_text(result.stdout + result.stderr)
        check(
            result.returncode == 0,
            f"{name} ran: {shlex.join(argv)}"
            + ("" if result.returncode == 0 else f"\n{result.stdout}{result.stderr}"),
        )

    def stop_all(self) -> None:
        if not self.started:
            return
        for _name, process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for name, process in reversed(self.started):
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(f"  {name} ignored SIGTERM; killing it")
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            try:  # anything left in its group (gunicorn or celery children)
                os.killpg(process.pid, signal.SIGKILL)
                print(f"  {name} left processes behind; killed them")
            except ProcessLookupError:
                pass
        for log in self.log_files:
            log.close()
        print(f"  stopped {len(self.started)} processes and everything they started")
        self.started, self.log_files = [], []

    def tails(self) -> str:
        out = []
        for log in sorted(self.logs.glob("*.log")):
            lines = log.read_text(errors="replace").splitlines()[-25:]
            out.append(f"--- {log.name} ---\n" + "\n".join(lines))
        return "\n".join(out)

    def assert_running(self) -> None:
        for name, process in self.started:
            if process.poll() is not None:
                raise SmokeFailure(f"{name} exited with {process.returncode}")


# -- the database --------------------------------------------------------------------------------


def admin_connection():
    connection = psycopg2.connect(ADMIN_URL)
    connection.autocommit = True
    return connection


def create_database(suffix: str) -> tuple[str, str, str]:
    owner, app, name = f"trd_smoke_owner_{suffix}", f"trd_smoke_app_{suffix}", f"trd_smoke_{suffix}"
    with closing(admin_connection()) as connection, connection.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(owner)))
        cursor.execute(sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER").format(sql.Identifier(app)))
        cursor.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(owner)
            )
        )
        cursor.execute(
            sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(name))
        )
    return owner, app, name


def drop_database(owner: str, app: str, name: str) -> None:
    with closing(admin_connection()) as connection, connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        for role in (app, owner):
            cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
    print(f"  dropped database {name} and roles {owner}, {app}")


def url_for(role: str, database: str) -> str:
    admin = urlparse(ADMIN_URL)
    return f"postgres://{role}@{admin.hostname}:{admin.port or 5432}/{database}"


# -- HTTP as a browser behind the TLS proxy ----------------------------------------------------


class Client:
    """A plain-HTTP client that says what the TLS proxy says (X-Forwarded-Proto: https) and
    keeps cookies by hand (the session cookie is Secure)."""

    def __init__(self, port: int, cookies: dict | None = None):
        self.port = port
        self.cookies = cookies if cookies is not None else {}

    def request(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = {
            "X-Forwarded-Proto": "https",
            "Host": f"127.0.0.1:{self.port}",
            **(headers or {}),
        }
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            for key, morsel in SimpleCookie(header).items():
                self.cookies[key] = morsel.value
        connection.close()
        return response, data

    def get(self, path, **headers):
        return self.request("GET", path, headers=headers)

    def post_form(self, path, fields):
        return self.request(
            "POST",
            path,
            body=urlencode(fields),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://127.0.0.1:{self.port}",
                "Referer": f"https://127.0.0.1:{self.port}{path}",
            },
        )

    def api(self, method, path, payload=None, token=None):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Token {token}"
        body = None
        if payload is not None:
            body = json.dumps(payload)
            headers["Content-Type"] = "application/json"
        response, data = self.request(method, path, body=body, headers=headers)
        return response, (json.loads(data) if data else None)


def wait_for(description: str, probe, seconds: float, processes: Processes):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        processes.assert_running()
        try:
            last = probe()
            if last:
                return last
        except OSError as error:
            last = error
        time.sleep(0.25)
    raise SmokeFailure(f"timed out waiting for {description} (last: {last!r})")


# -- the checks --------------------------------------------------------------------------------


def check_static_and_errors(web_a: Client, web_b: Client) -> None:
    response, page = web_a.get("/accounts/login/")
    check(response.status == 200, "the login page answers 200 in production")
    static_urls = sorted(set(re.findall(rb'(?:href|src)="(/static/[^"]+)"', page)))
    check(static_urls, f"the login page links {len(static_urls)} static files")
    for url in static_urls:
        path = url.decode()
        check(re.search(r"\.[0-9a-f]{12}\.\w+$", path), f"{path} has a hashed name")
        static, _ = web_b.get(path)
        check(static.status == 200, f"{path} answers 200")
    response, page = web_a.get("/no-such-page/")
    check(
        response.status == 404 and "text/html" in response.getheader("Content-Type"),
        "an unknown page answers 404 as HTML",
    )
    response, data = web_a.api("GET", "/api/v1/no-such-endpoint/")
    check(
        response.status == 404 and data == {"detail": "Not found."},
        "an unknown API path answers 404 as JSON",
    )


def check_health(*clients: Client) -> None:
    for client in clients:
        response, data = client.api("GET", "/healthz")
        check(
            response.status == 200 and data == {"status": "ok"},
            f"/healthz answers 200 on port {client.port}",
        )
        response, data = client.api("GET", "/readyz")
        check(
            response.status == 200 and data["status"] == "ok",
            f"/readyz answers 200 on port {client.port}: {data}",
        )


def check_shared_session(web_a: Client, web_b: Client) -> None:
    web_a.get("/accounts/login/")
    response, _ = web_a.post_form(
        "/accounts/login/",
        {
            "csrfmiddlewaretoken": web_a.cookies["csrftoken"],
            "username": "demo-clinician",
            "password": PASSWORD,
        },
    )
    check(
        response.status == 302 and "sessionid" in web_a.cookies,
        "demo-clinician signs in on the first gunicorn",
    )
    other = Client(web_b.port, cookies=dict(web_a.cookies))
    response, page = other.get("/patients/")
    check(
        response.status == 200 and b"demo-clinician" in page,
        "the second gunicorn accepts the session started on the first",
    )
    check(
        "no-store" in response.getheader("Cache-Control", ""),
        "the patient list says Cache-Control: no-store",
    )


def check_export_across_hosts(web_a: Client, web_b: Client, processes: Processes) -> None:
    response, data = web_a.api(
        "POST", "/api/v1/auth/token/", {"username": "demo-auditor", "password": PASSWORD}
    )
    check(
        response.status == 200 and data.get("token"),
        f"demo-auditor gets an API token ({response.status})",
    )
    check(
        "no-store" in response.getheader("Cache-Control", ""),
        "the token response says Cache-Control: no-store",
    )
    token = data["token"]
    response, data = web_a.api("POST", "/api/v1/exports/", {"kind": "trials_csv"}, token=token)
    check(response.status == 202, f"a trials_csv export is accepted on the first gunicorn: {data}")
    job_id = data["id"]

    def finished():
        _, job = web_b.api("GET", f"/api/v1/exports/{job_id}/", token=token)
        return job if job["status"] in ("done", "failed") else None

    job = wait_for(f"export {job_id}", finished, EXPORT_SECONDS, processes)
    check(job["status"] == "done", f"the workers ran the export: {job}")
    download = urlparse(job["download_url"]).path
    response, data = web_b.request("GET", download, headers={"Authorization": f"Token {token}"})
    check(response.status == 200, "the second gunicorn serves the download")
    check(data.startswith(b"patient_identifier,"), "the download is the trials CSV")
    check(len(data.splitlines()) > 1, f"the CSV has {len(data.splitlines()) - 1} trial rows")
    check(
        "no-store" in response.getheader("Cache-Control", ""),
        "the download says Cache-Control: no-store",
    )


# -- the run -----------------------------------------------------------------------------------


def environment(tmp: Path, database_url: str, migrate_url: str, redis_url: str) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "CELERY_", "GUNICORN_"))
        and k
        not in {
            "DATABASE_URL",
            "MIGRATE_DATABASE_URL",
            "REDIS_URL",
            "DEBUG",
            "SECRET_KEY",
            "EMAIL_BACKEND",
            "REQUIRE_SERVICES",
        }
    }
    for folder in ("media", "static", "tmp", "mail"):
        (tmp / folder).mkdir()
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "MIGRATE_DATABASE_URL": migrate_url,
            "REDIS_URL": redis_url,
            "MEDIA_ROOT": str(tmp / "media"),
            "STATIC_ROOT": str(tmp / "static"),
            "TMPDIR": str(tmp / "tmp"),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(tmp / "mail"),
            "TRUSTED_PROXY": "1",
            "WEB_CONCURRENCY": "2",
        }
    )
    return env


def main() -> int:
    if shutil.which("redis-server") is None:
        print("smoke: redis-server is not on the PATH", file=sys.stderr)
        return 2
    commands = compose_commands()
    suffix = f"{os.getpid()}_{secrets.token_hex(3)}"
    started = time.monotonic()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="trd-smoke-")))
        logs = tmp / "logs"
        logs.mkdir()
        processes = Processes(logs)
        stack.callback(processes.stop_all)  # redis, should the database never be created

        print("smoke: services")
        redis_port = free_port()
        processes.start(
            "redis",
            [
                "redis-server",
                "--port",
                str(redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            os.environ,
        )
        owner, app, database = create_database(suffix)
        stack.callback(drop_database, owner, app, database)
        stack.callback(processes.stop_all)  # first: nothing may hold the database when it drops
        env = environment(
            tmp,
            url_for(app, database),
            url_for(owner, database),
            f"redis://127.0.0.1:{redis_port}/0",
        )

        print("smoke: one-shot commands (as compose and the Dockerfile run them)")
        processes.run("migrate", commands["migrate"], env)
        processes.run("collectstatic", collectstatic_command(), env)
        processes.run("seed", ["python", "manage.py", "seed_demo", "--password", PASSWORD], env)

        print("smoke: long-running services")
        ports = [free_port(), free_port()]
        for index, port in enumerate(ports, start=1):
            processes.start(
                f"web{index}",
                commands["web"],
                {
                    **env,
                    "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{port} "
                    f"--control-socket {tmp}/web{index}.ctl",
                },
            )
        for index in (1, 2):
            processes.start(
                f"worker{index}", [*commands["worker"], "--hostname", f"smoke{index}@%h"], env
            )
        processes.start("beat", commands["beat"], env)
        web_a, web_b = Client(ports[0]), Client(ports[1])
        for client in (web_a, web_b):
            wait_for(
                f"gunicorn on {client.port}",
                lambda c=client: c.get("/healthz")[0].status == 200,
                STARTUP_SECONDS,
                processes,
            )

        print("smoke: checks")
        try:
            check_health(web_a, web_b)
            check_static_and_errors(web_a, web_b)
            check_shared_session(web_a, web_b)
            # An API client of its own: no session cookie, token authentication only.
            check_export_across_hosts(Client(ports[0]), Client(ports[1]), processes)
            processes.assert_running()
            check(True, "every started process is still running")
        except (SmokeFailure, OSError) as failure:
            print(f"\nsmoke FAILED: {failure}\n\n{processes.tails()}", file=sys.stderr)
            return 1
    print(f"smoke: passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
