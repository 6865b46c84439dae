"""What production relies on: static files that collect, health endpoints, no-store, JSON 404s."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from reports.models import ExportJob

ROOT = Path(__file__).resolve().parent.parent


def test_static_files_collect_under_the_production_storage(tmp_path):
    # As the Dockerfile runs it: DEBUG=0 and a secret, nothing else.
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "EMAIL_BACKEND", "REDIS_URL", "DATABASE_URL"}
    }
    env.update(
        {
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "STATIC_ROOT": str(tmp_path / "static"),
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    for name in (
        "favicon.svg",
        "css/app.css",
        "vendor/bootstrap/bootstrap.min.css",
        "vendor/bootstrap/bootstrap.bundle.min.js",
    ):
        hashed = manifest[name]
        assert hashed != name and (tmp_path / "static" / hashed).is_file()
        assert (tmp_path / "static" / f"{hashed}.gz").is_file()  # compressed for WhiteNoise


def test_vendored_bootstrap_keeps_its_licence_and_points_at_no_missing_map():
    vendor = ROOT / "static" / "vendor" / "bootstrap"
    assert "MIT License" in (vendor / "LICENSE").read_text()
    for name in ("bootstrap.min.css", "bootstrap.bundle.min.js"):
        text = (vendor / name).read_text()
        assert "Licensed under MIT" in text[:400]
        assert "sourceMappingURL" not in text


def test_healthz_says_the_process_is_alive_whatever_the_host(client, settings):
    settings.ALLOWED_HOSTS = ["trd.example.org"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_checks_each_component_and_names_them_only(client):
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": ["database", "migrations", "cache", "broker", "storage"],
    }


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_failing_component(client, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the media folder should be")
    settings.MEDIA_ROOT = blocked

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failing": ["storage"]}
    assert str(tmp_path) not in response.content.decode()


@pytest.mark.django_db
def test_readyz_reports_unapplied_migrations(client, monkeypatch):
    from django.db.migrations.executor import MigrationExecutor

    from trdtracker import health

    monkeypatch.setattr(health, "_migrations_applied", False)
    monkeypatch.setattr(
        MigrationExecutor, "migration_plan", lambda self, targets: [("reports", "0003_future")]
    )

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["failing"] == ["migrations"]


def test_an_unknown_api_path_answers_json_404_and_a_page_html_404(client, db):
    api = client.get("/api/v1/no-such-endpoint/")
    page = client.get("/no-such-page/")

    assert (api.status_code, api["Content-Type"]) == (404, "application/json")
    assert api.json() == {"detail": "Not found."}
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_the_patient_page_and_list_are_not_stored(login, clinician, patient):
    client = login(clinician)
    for url in ("/patients/", f"/patients/{patient.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"], url


def test_api_answers_are_not_stored(api, clinician, patient, password):
    assert "no-store" in api(clinician).get("/api/v1/patients/")["Cache-Control"]
    token = api().post(
        "/api/v1/auth/token/", {"username": "clinician", "password": password}, format="json"
    )
    assert token.status_code == 200 and "no-store" in token["Cache-Control"]


def test_export_downloads_are_not_stored(api, login, auditor, practice, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    job = ExportJob.objects.create(
        practice=practice, created_by=auditor, kind="trials_csv", status="done"
    )
    job.file.save("trials.csv", ContentFile(b"patient_identifier\n"))

    for response in (
        api(auditor).get(f"/api/v1/exports/{job.pk}/download/"),
        login(auditor).get(f"/reports/exports/{job.pk}/download/"),
    ):
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
