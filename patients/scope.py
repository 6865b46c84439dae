"""The patient scope: the one way into a patient's record, beside the patient.

`patients_visible_to` and `get_patient_for_user` narrow the patients to the user's practice
(tenancy and roles from accounts.access); a PatientScope, opened by `patient_view` or
`open_patient_scope`, reaches the patient's records and writes the request's `view` event
when it closes. Services receive the scope; lists of patients write their event with
`record_list_read`.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from accounts.access import (
    PATIENT,
    READ_METHODS,
    VIEW_CLINICAL,
    checked_id,
    declare_guard,
    membership_of,
    require,
)
from audit.models import Action
from audit.services import client_ip, record_event
from treatments.selectors import active_discussions, active_scores, active_therapies, active_trials

from .models import Patient


def patients_visible_to(user, capability: str = VIEW_CLINICAL):
    """The patients of the user's practice that are not deleted."""
    membership = require(user, capability)
    return Patient.objects.active().filter(practice_id=membership.practice_id)


def get_patient_for_user(user, pk, capability: str = VIEW_CLINICAL):
    """The patient `pk` of the user's own practice; 404 for any other, 403 without the right.

    The role is checked first so that a user without clinical access learns nothing
    about which ids exist.
    """
    patients = patients_visible_to(user, capability)
    try:
        return patients.get(pk=checked_id(pk))
    except patients.model.DoesNotExist:
        raise Http404("No such patient.") from None


class PatientScope:
    """One request's way into one patient: role and practice checked when it opens, the
    patient's trials, therapies and scores reached only through it, and, for a read that
    showed something, the one `view` event of the request written when it closes. Services
    receive it (the patient, who acts, from where) and take their "before" state themselves.

    Trusted code without a request (demo data, commands) uses PatientScope.trusted."""

    def __init__(
        self,
        user,
        patient,
        *,
        ip: str | None = None,
        reading: bool = False,
        details: dict | None = None,
    ):
        self.user, self.patient, self.ip = user, patient, ip
        self.reading = reading
        self.details = details or {}
        self.shown = None  # the trial or therapy a detail read showed
        self.closed = False

    @classmethod
    def trusted(cls, user, patient) -> "PatientScope":
        return cls(user, patient)

    @property
    def practice_id(self) -> int:
        return self.patient.practice_id

    def trials(self):
        return active_trials([self.patient.pk])

    def therapies(self):
        return active_therapies(self.patient)

    def scores(self):
        return active_scores(self.patient)

    def trial(self, pk):
        return self._one(self.trials(), pk, "trial")

    def therapy(self, pk):
        return self._one(self.therapies(), pk, "therapy")

    def score(self, pk):
        return self._one(self.scores(), pk, "score")

    def episodes(self):
        return self.patient.episodes.active().order_by("onset", "id")

    def discussions(self):
        return active_discussions(self.patient)

    def discussion(self, pk):
        return self._one(self.discussions(), pk, "discussion")

    def episode(self, pk):
        return self._one(self.episodes(), pk, "episode")

    def self_report_links(self):
        """The patient's self-report links, newest first (their tokens are not stored)."""
        return self.patient.self_report_links.select_related("created_by").order_by(
            "-created_at", "-id"
        )

    def _one(self, queryset, pk, name):
        try:
            record = queryset.get(pk=checked_id(pk))
        except queryset.model.DoesNotExist:
            raise Http404(f"No such {name}.") from None
        record.patient = self.patient
        self.shown = record
        return record

    def close(self, response) -> None:
        """Record the read once, if it showed the patient's data (no event for an error)."""
        if self.closed or not self.reading or response.status_code >= 400:
            return
        self.closed = True
        record_event(
            actor=self.user,
            practice_id=self.practice_id,
            action=Action.VIEW,
            obj=self.shown or self.patient,
            patient_id=self.patient.pk,
            ip=self.ip,
            details=self.details,
        )


def record_list_read(request, patients, details: dict) -> None:
    """A page or endpoint that listed patients: one `view` event naming each patient shown."""
    shown = [patient.pk for patient in patients]
    if not shown:
        return
    record_event(
        actor=request.user,
        practice_id=membership_of(request.user).practice_id,
        action=Action.VIEW,
        ip=client_ip(request),
        patients=shown,
        details={**details, "patients": len(shown)},
    )


def open_patient_scope(request, patient_id, capability: str, details: dict) -> PatientScope:
    """404 for another practice's (or no) patient, 403 without `capability` (checked first)."""
    patient = get_patient_for_user(request.user, patient_id, capability)
    return PatientScope(
        request.user,
        patient,
        ip=client_ip(request),
        reading=request.method in READ_METHODS,
        details=details,
    )


def patient_view(capability: str, *, kwarg: str = "patient_id", page: str | None = None):
    """A page about one patient: the view receives the opened PatientScope instead of the id."""

    def decorate(view):
        @wraps(view)
        def guarded(request, *args, **kwargs):
            scope = open_patient_scope(
                request, kwargs.pop(kwarg), capability, {"page": page or view.__name__}
            )
            response = view(request, scope, *args, **kwargs)
            scope.close(response)
            return response

        return declare_guard(login_required(guarded), PATIENT)

    return decorate
