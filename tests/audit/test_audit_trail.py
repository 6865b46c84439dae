"""The audit trail: written with the change, never edited, filtered for auditors."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.models import Action, AuditEvent, ImmutableError
from audit.services import record_event
from patients.models import Patient
from patients.scope import PatientScope
from tests.factories import PatientFactory, TherapyFactory, TrialFactory
from treatments.models import Trial
from treatments.services import trial_create


def event(practice, **kwargs):
    defaults = {"actor": "someone", "practice_id": practice.pk, "action": Action.VIEW}
    return record_event(**(defaults | kwargs))


class TestImmutability:
    @pytest.mark.django_db
    def test_the_orm_refuses_to_change_an_event(self, practice):
        stored = event(practice)
        stored.actor = "someone-else"
        with pytest.raises(ImmutableError):
            stored.save()
        with pytest.raises(ImmutableError):
            AuditEvent.objects.filter(pk=stored.pk).update(actor="x")

    @pytest.mark.django_db
    def test_the_orm_refuses_to_delete_an_event(self, practice):
        stored = event(practice)
        with pytest.raises(ImmutableError):
            stored.delete()
        with pytest.raises(ImmutableError):
            AuditEvent.objects.all().delete()
        assert AuditEvent.objects.filter(pk=stored.pk).exists()

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "sql",
        [
            "UPDATE audit_auditevent SET actor = 'forged' WHERE id = %s",
            "DELETE FROM audit_auditevent WHERE id = %s",
        ],
        ids=["update", "delete"],
    )
    def test_postgresql_refuses_update_and_delete_in_sql(self, postgres, practice, sql):
        stored = event(practice)
        with pytest.raises(DatabaseError, match="audit events are immutable"):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql, [stored.pk])
        assert AuditEvent.objects.get(pk=stored.pk).actor == "someone"


@pytest.mark.django_db
def test_a_change_that_rolls_back_leaves_no_event(clinician, patient):
    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        trial_create(
            scope=PatientScope.trusted(clinician, patient),
            trial=Trial(
                drug_id=TrialFactory.build().drug.pk,
                start_date=timezone.localdate() - timedelta(days=10),
                dose_mg=50,
            ),
            dose_changes=[],
        )
        raise Abort
    assert not Trial.objects.exists()
    assert not AuditEvent.objects.filter(action=Action.CREATE).exists()


@pytest.mark.django_db
def test_a_committed_change_always_has_its_event(clinician, patient):
    trial = trial_create(
        scope=PatientScope.trusted(clinician, patient),
        trial=Trial(
            drug_id=TrialFactory.build().drug.pk,
            start_date=timezone.localdate() - timedelta(days=10),
            dose_mg=50,
        ),
        dose_changes=[],
    )
    created = AuditEvent.objects.get(action=Action.CREATE, object_id=str(trial.pk))
    assert created.patient_id == patient.pk and created.actor == "clinician"


class TestAuditorPage:
    @pytest.fixture
    def events(self, practice, other_practice):
        base = [
            event(practice, actor="alice", action=Action.VIEW, patient_id=1),
            event(practice, actor="bob", action=Action.UPDATE, patient_id=2),
            event(practice, actor="alice", action=Action.LOGIN),
            event(other_practice, actor="mallory", action=Action.VIEW, patient_id=1),
        ]
        return base

    @pytest.mark.django_db
    @pytest.mark.parametrize(
        "query,expected",
        [
            ("", {"alice", "bob"}),
            ("?patient=1", {"alice"}),
            ("?actor=bob", {"bob"}),
            ("?action=login", {"alice"}),
            ("?action=update&actor=alice", set()),
        ],
    )
    def test_it_filters_by_patient_user_and_action(self, events, auditor, login, query, expected):
        page = login(auditor).get("/audit/" + query)
        shown = {e.actor for e in page.context["page"]}
        assert shown == expected

    @pytest.mark.django_db
    def test_it_filters_by_date_range(self, events, auditor, login):
        today = timezone.localdate()
        client = login(auditor)
        assert len(client.get(f"/audit/?since={today}&until={today}").context["page"]) == 3
        yesterday = today - timedelta(days=1)
        assert len(client.get(f"/audit/?until={yesterday}").context["page"]) == 0
        response = client.get(f"/audit/?since={today}&until={yesterday}")
        assert "until" in response.context["form"].errors
        assert len(response.context["page"]) == 0

    @pytest.mark.django_db
    def test_it_never_shows_another_practices_events(self, events, auditor, login):
        page = login(auditor).get("/audit/?actor=mallory")
        assert len(page.context["page"]) == 0

    @pytest.mark.django_db
    def test_it_pages_fifty_at_a_time_with_older_and_newer_links(self, practice, auditor, login):
        for n in range(55):
            event(practice, actor=f"user{n}")
        client = login(auditor)
        first = client.get("/audit/").context["page"]
        older = client.get("/audit/" + first.older_url).context["page"]
        again = client.get("/audit/" + older.newer_url).context["page"]

        assert (len(first), len(older)) == (50, 5)
        assert first.newer_url is None and older.older_url is None
        assert [e.actor for e in older] == [f"user{n}" for n in range(4, -1, -1)]
        assert list(again) == list(first)

    @pytest.mark.django_db
    def test_clinicians_cannot_read_the_audit_trail(self, clinician, login):
        assert login(clinician).get("/audit/").status_code == 403

    @pytest.mark.django_db
    def test_practice_admins_can_read_the_audit_trail(self, practice_admin, events, login):
        assert login(practice_admin).get("/audit/").status_code == 200


@pytest.mark.django_db
def test_the_filtered_query_uses_an_index(postgres, practice):
    """With sequential scans priced out, the planner serves each filter from its index."""
    from audit.forms import AuditFilterForm

    for n in range(20):
        event(practice, actor=f"u{n % 3}", patient_id=n % 4, action=Action.VIEW)
    cases = {
        "audit_practice_patient": {"patient": "2"},
        "audit_practice_actor": {"actor": "u1"},
        "audit_practice_action": {"action": "view"},
        "audit_practice_time": {"since": str(timezone.localdate())},
    }
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        for index, params in cases.items():
            form = AuditFilterForm(params)
            assert form.is_valid()
            query = form.filter(AuditEvent.objects.filter(practice_id=practice.pk), practice.pk)[
                :50
            ]
            assert index in query.explain(), (index, query.explain())
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET enable_seqscan = on")


@pytest.mark.django_db
def test_purge_erases_only_old_soft_deleted_records_and_audits_each(practice):
    kept = PatientFactory(practice=practice)
    gone = PatientFactory(practice=practice, deleted_at=timezone.now() - timedelta(days=40))
    TrialFactory(patient=gone)
    TherapyFactory(patient=gone)
    recent = TrialFactory(patient=kept, deleted_at=timezone.now() - timedelta(days=2))
    old_trial = TrialFactory(patient=kept, deleted_at=timezone.now() - timedelta(days=40))

    call_command("purge_deleted", older_than_days=30)

    assert set(Patient.objects.values_list("pk", flat=True)) == {kept.pk}
    assert set(Trial.objects.values_list("pk", flat=True)) == {recent.pk}
    hard = AuditEvent.objects.filter(actor="purge_deleted", details__hard_delete=True)
    assert {(e.object_type, e.object_id) for e in hard} >= {
        ("patient", str(gone.pk)),
        ("trial", str(old_trial.pk)),
    }
    assert hard.count() == 4


@pytest.mark.django_db
def test_purge_dry_run_erases_nothing(practice):
    PatientFactory(practice=practice, deleted_at=timezone.now() - timedelta(days=40))
    call_command("purge_deleted", older_than_days=30, dry_run=True)
    assert Patient.objects.count() == 1
    assert not AuditEvent.objects.filter(actor="purge_deleted").exists()
