"""The application's database role can work but cannot erase or rewrite the audit trail.

On PostgreSQL the test grants a freshly made role with `grant_app_role` (as production's
migrate service does), reconnects the app as that role, does normal work through the API, then
tries every way of tampering with audit events that the table's owner would have.
"""

import secrets

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from audit.models import AuditEvent
from reports.services import export_run
from tests.api.helpers import trial_payload

# Committed for real (the app role has its own connection); the drug catalog is restored after.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TAMPERING = {
    "truncate": "TRUNCATE audit_auditevent",
    "truncate cascade": "TRUNCATE audit_auditevent CASCADE",
    "disable the trigger, then update": (
        "ALTER TABLE audit_auditevent DISABLE TRIGGER ALL; "
        "UPDATE audit_auditevent SET actor = 'nobody'"
    ),
    "disable the trigger, then delete": (
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_immutable; "
        "DELETE FROM audit_auditevent"
    ),
    "update": "UPDATE audit_auditevent SET actor = 'nobody'",
    "delete": "DELETE FROM audit_auditevent",
    "drop the trigger": "DROP TRIGGER audit_event_immutable ON audit_auditevent",
    "replica mode, then delete": (
        "SET session_replication_role = replica; DELETE FROM audit_auditevent"
    ),
    "drop the table": "DROP TABLE audit_auditevent CASCADE",
    "delete the patient links": "DELETE FROM audit_auditeventpatient",
    "truncate the patient links": "TRUNCATE audit_auditeventpatient",
    "a trigger of its own": (
        "CREATE TRIGGER sneaky BEFORE INSERT ON audit_auditevent "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_immutable()"
    ),
}


def _execute(statement: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement)


@pytest.fixture
def app_role(postgres, db):
    """Connect the app as a new role granted as production grants it; undone afterwards."""
    role = f"trd_app_test_{secrets.token_hex(4)}"
    quoted = connection.ops.quote_name(role)
    _execute(f"CREATE ROLE {quoted} LOGIN NOSUPERUSER")
    call_command("grant_app_role", role, database="default")
    call_command("grant_app_role", role, database="default")  # idempotent: after every migrate
    settings_dict = connection.settings_dict
    owner = (settings_dict["USER"], settings_dict["PASSWORD"])
    connection.close()
    settings_dict["USER"], settings_dict["PASSWORD"] = role, ""
    yield role
    connection.close()
    settings_dict["USER"], settings_dict["PASSWORD"] = owner
    _execute(f"DROP OWNED BY {quoted}; DROP ROLE {quoted}")


def test_the_app_connects_as_a_role_that_is_not_the_owner(app_role):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolsuper, "
            "has_table_privilege('audit_auditevent', 'INSERT'), "
            "has_table_privilege('audit_auditevent', 'SELECT'), "
            "has_table_privilege('audit_auditevent', 'UPDATE'), "
            "has_table_privilege('audit_auditevent', 'DELETE'), "
            "has_table_privilege('audit_auditevent', 'TRUNCATE'), "
            "has_table_privilege('audit_auditevent', 'TRIGGER'), "
            "has_table_privilege('audit_auditevent', 'REFERENCES'), "
            "(SELECT count(*) FROM pg_tables WHERE tableowner = current_user) "
            "FROM pg_roles WHERE rolname = current_user"
        )
        row = cursor.fetchone()
    assert row == (app_role, False, True, True, False, False, False, False, False, 0)


def test_normal_work_succeeds_as_the_app_role(
    app_role, api, clinician, auditor, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXPORT_WORK_DIR = tmp_path / "work"
    as_clinician = api(clinician)
    created = as_clinician.post(
        "/api/v1/patients/",
        {
            "identifier": "ROLE-1",
            "date_of_birth": "1975-03-04",
            "episode_start": None,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    patient_id = created.json()["id"]
    trial = as_clinician.post(
        f"/api/v1/patients/{patient_id}/trials/", trial_payload(), format="json"
    )
    assert trial.status_code == 201, trial.content
    assert as_clinician.get(f"/api/v1/patients/{patient_id}/").status_code == 200

    with transaction.atomic():  # the task runs once the request's transaction commits
        exported = api(auditor).post("/api/v1/exports/", {"kind": "trials_csv"}, format="json")
    assert exported.status_code == 202
    job = export_run(exported.json()["id"])
    assert job.status == "done", job.error
    actions = set(AuditEvent.objects.filter(patient_id=patient_id).values_list("action", flat=True))
    assert {"create", "view"} <= actions


@pytest.mark.parametrize("statement", TAMPERING.values(), ids=TAMPERING.keys())
def test_the_app_role_cannot_erase_or_rewrite_audit_events(
    app_role, clinician, patient, api, statement
):
    assert api(clinician).get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    before = list(AuditEvent.objects.order_by("pk").values_list("pk", "actor", "action"))
    assert before

    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        _execute(statement)

    assert "permission denied" in str(refused.value) or "must be owner" in str(refused.value)
    after = list(AuditEvent.objects.order_by("pk").values_list("pk", "actor", "action"))
    assert after == before


def test_granting_refuses_the_owner_and_unknown_roles(postgres):
    from django.core.management.base import CommandError

    owner = connection.settings_dict["USER"]
    with pytest.raises(CommandError, match="owner or a superuser"):
        call_command("grant_app_role", owner, database="default")
    with pytest.raises(CommandError, match="no database role"):
        call_command("grant_app_role", "no_such_role_here", database="default")
