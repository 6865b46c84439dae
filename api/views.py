"""The JSON API. Every view starts with an accounts.access helper, like the web views."""

from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access, signin, twofactor
from audit.forms import AuditFilterForm
from audit.models import Action
from audit.services import client_ip, record_event
from patients import services as patient_services
from patients.models import Patient
from treatments import services as treatment_services
from treatments.models import Drug, ScaleScore, Therapy, Trial
from treatments.selectors import (
    active_scores,
    active_therapies,
    active_trials,
    patient_history,
    patient_warnings_and_staging,
)

from . import serializers


class TokenView(ObtainAuthToken):
    """POST {"username", "password", "otp"} → {"token"}.

    "otp" (the authenticator's current code, or a recovery code) is required once the
    user has two-factor authentication; users without it get their token as before.
    """

    permission_classes = [AllowAny]

    serializer_class = serializers.TokenRequestSerializer

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = serializer.validated_data
        try:
            user = signin.check_credentials(
                request, credentials["username"], credentials["password"], channel="api"
            )
        except signin.SigninLocked as locked:
            raise ValidationError({"non_field_errors": [signin.lock_message(locked.until)]}) from None
        except signin.SigninFailed:
            raise ValidationError(
                {"non_field_errors": ["Unable to sign in with the username and password given."]}
            ) from None
        self.check_second_factor(request, user)
        signin.record_signin(request, user, channel="api")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    @staticmethod
    def check_second_factor(request, user) -> None:
        if twofactor.needs_enrolment(user):
            raise ValidationError({"otp": [
                "Your practice requires two-factor authentication: sign in on the web once "
                "to set it up, then ask for a token with the code."
            ]})
        if not twofactor.has_two_factor(user):
            return
        otp = request.data.get("otp")
        if not otp:
            raise ValidationError({"otp": ["Enter the code from your authenticator app."]})
        if not twofactor.verify_second_factor(user, str(otp), ip=client_ip(request)):
            # A wrong second factor counts toward the sign-in lockout like a wrong password.
            signin.record_failure(request, user.username, channel="api", reason="otp")
            raise ValidationError({"otp": ["This code is not valid."]})


def audit_read(request, patient, what: str, obj=None):
    record_event(
        actor=request.user, practice_id=patient.practice_id, action=Action.VIEW,
        obj=obj or patient, patient_id=patient.pk, ip=client_ip(request),
        details={"api": what},
    )


def if_match(request) -> set[int] | None:
    """The versions an `If-Match` header accepts: None without one (or with `*`); a tag that is
    not one of our versions (a weak or foreign tag) matches nothing."""
    header = request.headers.get("If-Match")
    if not header:
        return None
    tags = parse_etags(header)
    if tags == ["*"]:
        return None
    versions = set()
    for tag in tags:
        value = tag.strip('"') if tag.startswith('"') else ""
        if value.isdigit() and len(value) < 10:
            versions.add(int(value))
    return versions


def with_etag(response: Response, record) -> Response:
    response["ETag"] = f'"{record.version}"'
    return response


def _patient(request, pk, capability: str) -> Patient:
    return access.get_patient_for_user(request.user, pk, capability)


class DrugList(generics.ListAPIView):
    serializer_class = serializers.DrugSerializer
    pagination_class = None
    queryset = Drug.objects.order_by("name")


class PatientList(generics.ListCreateAPIView):
    serializer_class = serializers.PatientSerializer

    def get_queryset(self):
        return access.patients_visible_to(self.request.user, access.VIEW_CLINICAL).order_by(
            "identifier", "id"
        )

    def create(self, request, *args, **kwargs):
        membership = access.require(request.user, access.EDIT_CLINICAL)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = patient_services.patient_create(
            user=request.user, practice=membership.practice,
            patient=Patient(**serializer.validated_data), ip=client_ip(request),
        )
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetail(APIView):
    serializer_class = serializers.PatientSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def get(self, request, pk):
        patient = _patient(request, pk, access.VIEW_CLINICAL)
        audit_read(request, patient, "patient")
        return with_etag(Response(serializers.PatientSerializer(patient).data), patient)

    def patch(self, request, pk):
        patient = _patient(request, pk, access.EDIT_CLINICAL)
        serializer = serializers.PatientSerializer(patient, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        patient = patient_services.patient_update(
            user=request.user, patient=patient, changes=serializer.validated_data,
            if_match=if_match(request), ip=client_ip(request),
        )
        return with_etag(Response(serializers.PatientSerializer(patient).data), patient)

    def delete(self, request, pk):
        patient = _patient(request, pk, access.EDIT_CLINICAL)
        patient_services.patient_delete(
            user=request.user, patient=patient, if_match=if_match(request), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrialList(APIView):
    serializer_class = serializers.TrialSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(operation_id="patients_trials_list",
                   responses=serializers.TrialSerializer(many=True))
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, access.VIEW_CLINICAL)
        audit_read(request, patient, "trials")
        trials = active_trials([patient.pk])
        return Response(serializers.TrialSerializer(trials, many=True).data)

    @extend_schema(responses={201: serializers.TrialSerializer})
    def post(self, request, patient_id):
        patient = _patient(request, patient_id, access.EDIT_CLINICAL)
        serializer = serializers.TrialSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = [(c["date"], c["dose_mg"]) for c in data.pop("dose_changes", [])]
        trial = treatment_services.trial_create(
            user=request.user, patient=patient, trial=Trial(**data), dose_changes=changes,
            ip=client_ip(request),
        )
        return Response(serializers.TrialSerializer(trial).data, status=status.HTTP_201_CREATED)


class TrialDetail(APIView):
    serializer_class = serializers.TrialSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def _trial(self, request, patient_id, pk, capability: str):
        return access.get_trial_for_user(request.user, patient_id, pk, capability)

    def get(self, request, patient_id, pk):
        patient, trial = self._trial(request, patient_id, pk, access.VIEW_CLINICAL)
        audit_read(request, patient, "trial", trial)
        return with_etag(Response(serializers.TrialSerializer(trial).data), trial)

    def patch(self, request, patient_id, pk):
        _, trial = self._trial(request, patient_id, pk, access.EDIT_CLINICAL)
        serializer = serializers.TrialSerializer(trial, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = None
        if "dose_changes" in data:
            changes = [(c["date"], c["dose_mg"]) for c in data.pop("dose_changes")]
        treatment_services.trial_update(
            user=request.user, trial=trial, changes=data, dose_changes=changes,
            if_match=if_match(request), ip=client_ip(request),
        )
        fresh = active_trials([trial.patient_id]).get(pk=trial.pk)
        return with_etag(Response(serializers.TrialSerializer(fresh).data), fresh)

    def delete(self, request, patient_id, pk):
        _, trial = self._trial(request, patient_id, pk, access.EDIT_CLINICAL)
        treatment_services.trial_delete(
            user=request.user, trial=trial, if_match=if_match(request), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TherapyList(APIView):
    serializer_class = serializers.TherapySerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(operation_id="patients_therapies_list",
                   responses=serializers.TherapySerializer(many=True))
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, access.VIEW_CLINICAL)
        audit_read(request, patient, "therapies")
        return Response(serializers.TherapySerializer(active_therapies(patient), many=True).data)

    @extend_schema(responses={201: serializers.TherapySerializer})
    def post(self, request, patient_id):
        patient = _patient(request, patient_id, access.EDIT_CLINICAL)
        serializer = serializers.TherapySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        therapy = treatment_services.therapy_create(
            user=request.user, patient=patient, therapy=Therapy(**serializer.validated_data),
            ip=client_ip(request),
        )
        return Response(
            serializers.TherapySerializer(therapy).data, status=status.HTTP_201_CREATED
        )


class TherapyDetail(APIView):
    serializer_class = serializers.TherapySerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]

    def _therapy(self, request, patient_id, pk, capability: str):
        return access.get_therapy_for_user(request.user, patient_id, pk, capability)

    def get(self, request, patient_id, pk):
        patient, therapy = self._therapy(request, patient_id, pk, access.VIEW_CLINICAL)
        audit_read(request, patient, "therapy", therapy)
        return with_etag(Response(serializers.TherapySerializer(therapy).data), therapy)

    def patch(self, request, patient_id, pk):
        _, therapy = self._therapy(request, patient_id, pk, access.EDIT_CLINICAL)
        serializer = serializers.TherapySerializer(therapy, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        therapy = treatment_services.therapy_update(
            user=request.user, therapy=therapy, changes=serializer.validated_data,
            if_match=if_match(request), ip=client_ip(request),
        )
        return with_etag(Response(serializers.TherapySerializer(therapy).data), therapy)

    def delete(self, request, patient_id, pk):
        _, therapy = self._therapy(request, patient_id, pk, access.EDIT_CLINICAL)
        treatment_services.therapy_delete(
            user=request.user, therapy=therapy, if_match=if_match(request), ip=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScoreList(APIView):
    serializer_class = serializers.ScoreSerializer
    http_method_names = ["get", "post", "head", "options"]

    @extend_schema(operation_id="patients_scores_list",
                   responses=serializers.ScoreSerializer(many=True))
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, access.VIEW_CLINICAL)
        audit_read(request, patient, "scores")
        return Response(serializers.ScoreSerializer(active_scores(patient), many=True).data)

    @extend_schema(responses={201: serializers.ScoreSerializer})
    def post(self, request, patient_id):
        patient = _patient(request, patient_id, access.EDIT_CLINICAL)
        serializer = serializers.ScoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        score = treatment_services.score_create(
            user=request.user, patient=patient, score=ScaleScore(**serializer.validated_data),
            ip=client_ip(request),
        )
        return Response(serializers.ScoreSerializer(score).data, status=status.HTTP_201_CREATED)


class TrdStatus(APIView):
    serializer_class = serializers.TrdStatusSerializer
    http_method_names = ["get", "head", "options"]

    @extend_schema(parameters=[serializers.TrdQuerySerializer])
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, access.VIEW_CLINICAL)
        query = serializers.TrdQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        history = patient_history(patient, as_of=query.validated_data.get("as_of"))
        audit_read(request, patient, "trd")
        body = serializers.TrdEvaluationSerializer(
            history.evaluation, context={"measured": history.measured}
        ).data
        _, stages = patient_warnings_and_staging(history)
        return Response({**body, **serializers.StagingSerializer(stages).data})


class PatientOptions(APIView):
    serializer_class = serializers.OptionSerializer
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=serializers.OptionSerializer(many=True))
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, access.VIEW_CLINICAL)
        history = patient_history(patient)
        audit_read(request, patient, "options")
        return Response(serializers.OptionSerializer(history.options, many=True).data)


class PatientWarnings(APIView):
    """Warnings derived on read from the recorded trials (treatments.warnings)."""

    serializer_class = serializers.WarningSerializer
    http_method_names = ["get", "head", "options"]

    @extend_schema(operation_id="patients_warnings_list",
                   responses=serializers.WarningSerializer(many=True))
    def get(self, request, patient_id):
        patient = _patient(request, patient_id, access.VIEW_CLINICAL)
        found, _ = patient_warnings_and_staging(patient_history(patient))
        audit_read(request, patient, "warnings")
        return Response(serializers.WarningSerializer(found, many=True).data)


class AuditEventList(generics.ListAPIView):
    """GET only: the practice's audit events, filtered like the auditor page."""

    serializer_class = serializers.AuditEventSerializer
    http_method_names = ["get", "head", "options"]

    @extend_schema(parameters=[
        OpenApiParameter("patient", int), OpenApiParameter("actor", str),
        OpenApiParameter("action", str, enum=Action.values),
        OpenApiParameter("since", OpenApiTypes.DATE), OpenApiParameter("until", OpenApiTypes.DATE),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        events = access.events_visible_to(self.request.user)
        form = AuditFilterForm(self.request.query_params)
        if not form.is_valid():
            raise ValidationError(form.errors)
        return form.filter(events)
