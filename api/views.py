"""The JSON API. Every view starts with an accounts.access helper, like the web views."""

from django.utils import timezone
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiParameter, extend_schema
from knox.models import AuthToken
from rest_framework import generics, status
from rest_framework.exceptions import MethodNotAllowed, NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import access, signin
from accounts.twofactor import devices as twofactor
from audit.forms import AuditFilterForm
from audit.services import client_ip
from patients import episodes as episode_services
from patients import services as patient_services
from patients.models import Episode, Patient
from patients.scope import open_patient_scope, patients_visible_to, record_list_read
from treatments import self_report
from treatments import services as treatment_services
from treatments.models import Discussion, Drug, ScaleScore, Therapy, Trial
from treatments.selectors import (
    patient_history,
    patient_warnings_and_staging,
)

from . import serializers
from .pagination import AuditCursorPagination
from .schema import form_parameters


class TokenView(APIView):
    """POST {"username", "password", "otp"} → {"token"}.

    "otp" (the authenticator's current code, or a recovery code) is required once the
    user has two-factor authentication; users without it get their token as before.
    """

    access_guard = access.PUBLIC
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"
    serializer_class = serializers.TokenRequestSerializer

    @extend_schema(
        request=serializers.TokenRequestSerializer, responses=serializers.TokenSerializer
    )
    def post(self, request, *args, **kwargs):
        serializer = self.serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        credentials = serializer.validated_data
        try:
            user = signin.check_credentials(
                request, credentials["username"], credentials["password"], channel="api"
            )
        except signin.SigninLocked as locked:
            raise ValidationError(
                {"non_field_errors": [signin.lock_message(locked.until)]}
            ) from None
        except signin.SigninFailed:
            raise ValidationError(
                {"non_field_errors": ["Unable to sign in with the username and password given."]}
            ) from None
        self.check_second_factor(request, user)
        signin.record_signin(request, user, channel="api")
        # A new token each time, stored as a digest: this answer is the only place it appears.
        instance, token = AuthToken.objects.create(user=user)
        return Response({"token": token, "expiry": instance.expiry})

    @staticmethod
    def check_second_factor(request, user) -> None:
        if twofactor.needs_enrolment(user):
            raise ValidationError(
                {
                    "otp": [
                        "Your practice requires two-factor authentication: sign in on the web once "
                        "to set it up, then ask for a token with the code."
                    ]
                }
            )
        if not twofactor.has_two_factor(user):
            return
        otp = request.data.get("otp")
        if not otp:
            raise ValidationError({"otp": ["Enter the code from your authenticator app."]})
        if str(otp).strip().isdigit() and twofactor.totp_throttled(user):
            raise ValidationError(
                {
                    "otp": [
                        "Too many wrong codes in a row: wait a minute, then send the current code."
                    ]
                }
            )
        if not twofactor.verify_second_factor(user, str(otp), ip=client_ip(request)):
            # A wrong second factor counts toward the sign-in lockout like a wrong password.
            signin.record_failure(request, user.username, channel="api", reason="otp")
            raise ValidationError({"otp": ["This code is not valid."]})


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


def query_values(request) -> dict[str, str]:
    """The query string as single values. `?as_of=` with no value is a 400 (the schema says a
    date), not a silent "not given" as in a web form."""
    empty = [name for name, value in request.query_params.items() if value == ""]
    if empty:
        raise ValidationError(
            {name: ["Give a value, or leave the parameter out."] for name in empty}
        )
    return request.query_params.dict()


def deletion_reason(request) -> str:
    """Why a record is removed: `{"reason": ...}` in the body or `?reason=`; checked by the
    services (audit.services.clean_deletion_reason), so a missing one is a 400 on `reason`."""
    body = request.data if isinstance(request.data, dict) else {}
    return body.get("reason", request.query_params.get("reason"))


REMOVAL = {
    "request": serializers.DeletionSerializer,
    "parameters": [
        OpenApiParameter(
            "reason",
            str,
            description="Why the record is removed (or `reason` in the body). "
            "Required: kept in the audit trail.",
        )
    ],
}


def with_etag(response: Response, record) -> Response:
    response["ETag"] = f'"{record.version}"'
    return response


class TokenList(APIView):
    """GET: your own API tokens (never the tokens themselves: their first characters, when
    they were issued and when they expire). DELETE .../{id}/ revokes one."""

    access_guard = access.PRACTICE
    http_method_names = ["get", "head", "options"]

    @extend_schema(responses=serializers.OwnTokenSerializer(many=True))
    def get(self, request):
        tokens = AuthToken.objects.filter(user=request.user, expiry__gt=timezone.now())
        current = getattr(request.auth, "token_key", None)
        return Response(
            [
                {
                    "id": token.token_key,
                    "created": token.created,
                    "expiry": token.expiry,
                    "current": token.token_key == current,
                }
                for token in tokens.order_by("-created")
            ]
        )


class TokenDetail(APIView):
    access_guard = access.PRACTICE
    http_method_names = ["delete", "options"]

    @extend_schema(responses={204: None})
    def delete(self, request, token_id):
        deleted, _ = AuthToken.objects.filter(user=request.user, token_key=token_id).delete()
        if not deleted:
            raise NotFound("No such token.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatientScopedView(APIView):
    """Everything under /patients/{id}/. Each view names the capability of every method it
    serves (`capabilities`); a method it does not name is refused. The patient scope is opened
    before the handler runs (404 for another practice, 403 without the right) and closed with
    the response, which records the request's one `view` event for a successful read."""

    access_guard = access.PATIENT
    patient_kwarg = "patient_id"
    capabilities: dict[str, str] = {}
    audit_name = ""

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        method = "get" if request.method == "HEAD" else request.method.lower()
        if method not in self.capabilities:
            raise MethodNotAllowed(request.method)
        self.scope = open_patient_scope(
            request,
            kwargs[self.patient_kwarg],
            self.capabilities[method],
            {"api": self.audit_name},
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope.close(response)
        return response


READ = {"get": access.VIEW_CLINICAL}
READ_WRITE = {
    "get": access.VIEW_CLINICAL,
    "post": access.EDIT_CLINICAL,
    "patch": access.EDIT_CLINICAL,
    "delete": access.EDIT_CLINICAL,
}


class DrugList(generics.ListAPIView):
    access_guard = access.PRACTICE
    serializer_class = serializers.DrugSerializer
    pagination_class = None
    queryset = Drug.objects.order_by("name")


class PatientList(generics.ListCreateAPIView):
    access_guard = access.PRACTICE
    serializer_class = serializers.PatientSerializer

    def get_queryset(self):
        return patients_visible_to(self.request.user, access.VIEW_CLINICAL).order_by(
            "identifier", "id"
        )

    def list(self, request, *args, **kwargs):
        # The page's ids first, from the index alone, then only their rows: a deep page's
        # OFFSET otherwise read every skipped patient's row.
        ids = self.paginate_queryset(self.get_queryset().values_list("pk", flat=True))
        page = list(Patient.objects.filter(pk__in=ids).order_by("identifier", "id"))
        record_list_read(request, page, {"api": "patients"})
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        scope = access.open_practice_scope(request, access.EDIT_CLINICAL)
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = patient_services.patient_create(
            scope=scope, patient=Patient(**serializer.validated_data)
        )
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetail(PatientScopedView):
    versioned = True  # PATCH and DELETE honour If-Match (412 when stale)
    serializer_class = serializers.PatientSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    patient_kwarg = "pk"
    capabilities = READ_WRITE
    audit_name = "patient"

    def get(self, request, pk):
        patient = self.scope.patient
        return with_etag(Response(serializers.PatientSerializer(patient).data), patient)

    def patch(self, request, pk):
        serializer = serializers.PatientSerializer(
            self.scope.patient, data=request.data, partial=True
        )
        serializer.is_valid(raise_exception=True)
        patient = patient_services.patient_update(
            scope=self.scope, changes=serializer.validated_data, if_match=if_match(request)
        )
        return with_etag(Response(serializers.PatientSerializer(patient).data), patient)

    @extend_schema(**REMOVAL)
    def delete(self, request, pk):
        patient_services.patient_delete(
            scope=self.scope, reason=deletion_reason(request), if_match=if_match(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrialList(PatientScopedView):
    serializer_class = serializers.TrialSerializer
    http_method_names = ["get", "post", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "trials"

    @extend_schema(
        operation_id="patients_trials_list", responses=serializers.TrialSerializer(many=True)
    )
    def get(self, request, patient_id):
        return Response(serializers.TrialSerializer(self.scope.trials(), many=True).data)

    @extend_schema(responses={201: serializers.TrialSerializer})
    def post(self, request, patient_id):
        serializer = serializers.TrialSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = [(c["date"], c["dose_mg"]) for c in data.pop("dose_changes", [])]
        trial = treatment_services.trial_create(
            scope=self.scope, trial=Trial(**data), dose_changes=changes
        )
        return Response(serializers.TrialSerializer(trial).data, status=status.HTTP_201_CREATED)


class TrialDetail(PatientScopedView):
    versioned = True  # PATCH and DELETE honour If-Match (412 when stale)
    serializer_class = serializers.TrialSerializer
    http_method_names = ["get", "patch", "delete", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "trial"

    def get(self, request, patient_id, pk):
        trial = self.scope.trial(pk)
        return with_etag(Response(serializers.TrialSerializer(trial).data), trial)

    def patch(self, request, patient_id, pk):
        trial = self.scope.trial(pk)
        serializer = serializers.TrialSerializer(trial, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        changes = None
        if "dose_changes" in data:
            changes = [(c["date"], c["dose_mg"]) for c in data.pop("dose_changes")]
        treatment_services.trial_update(
            scope=self.scope,
            trial=trial,
            changes=data,
            dose_changes=changes,
            if_match=if_match(request),
        )
        fresh = self.scope.trial(pk)
        return with_etag(Response(serializers.TrialSerializer(fresh).data), fresh)

    @extend_schema(**REMOVAL)
    def delete(self, request, patient_id, pk):
        treatment_services.trial_delete(
            scope=self.scope,
            trial=self.scope.trial(pk),
            reason=deletion_reason(request),
            if_match=if_match(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TherapyList(PatientScopedView):
    serializer_class = serializers.TherapySerializer
    http_method_names = ["get", "post", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "therapies"

    @extend_schema(
        operation_id="patients_therapies_list", responses=serializers.TherapySerializer(many=True)
    )
    def get(self, request, patient_id):
        return Response(serializers.TherapySerializer(self.scope.therapies(), many=True).data)

    @extend_schema(responses={201: serializers.TherapySerializer})
    def post(self, request, patient_id):
        serializer = serializers.TherapySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        therapy = treatment_services.therapy_create(
            scope=self.scope, therapy=Therapy(**serializer.validated_data)
        )
        return Response(serializers.TherapySerializer(therapy).data, status=status.HTTP_201_CREATED)


class RecordDetail(PatientScopedView):
    """One record of the patient: read, changed (PATCH, If-Match) or removed with a reason
    (DELETE). Subclasses name the record (`find`) and its services (`update`, `remove`)."""

    versioned = True  # PATCH and DELETE honour If-Match (412 when stale)
    http_method_names = ["get", "patch", "delete", "head", "options"]
    capabilities = READ_WRITE

    def find(self, pk):
        raise NotImplementedError

    def update(self, record, changes: dict, versions):
        raise NotImplementedError

    def remove(self, record, reason, versions) -> None:
        raise NotImplementedError

    def get(self, request, patient_id, pk):
        record = self.find(pk)
        return with_etag(Response(self.serializer_class(record).data), record)

    def patch(self, request, patient_id, pk):
        serializer = self.serializer_class(self.find(pk), data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        record = self.update(serializer.instance, serializer.validated_data, if_match(request))
        return with_etag(Response(self.serializer_class(record).data), record)

    @extend_schema(**REMOVAL)
    def delete(self, request, patient_id, pk):
        self.remove(self.find(pk), deletion_reason(request), if_match(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TherapyDetail(RecordDetail):
    serializer_class = serializers.TherapySerializer
    audit_name = "therapy"

    def find(self, pk):
        return self.scope.therapy(pk)

    def update(self, record, changes, versions):
        return treatment_services.therapy_update(
            scope=self.scope, therapy=record, changes=changes, if_match=versions
        )

    def remove(self, record, reason, versions):
        treatment_services.therapy_delete(
            scope=self.scope, therapy=record, reason=reason, if_match=versions
        )


class ScoreList(PatientScopedView):
    serializer_class = serializers.ScoreSerializer
    http_method_names = ["get", "post", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "scores"

    @extend_schema(
        operation_id="patients_scores_list", responses=serializers.ScoreSerializer(many=True)
    )
    def get(self, request, patient_id):
        return Response(serializers.ScoreSerializer(self.scope.scores(), many=True).data)

    @extend_schema(responses={201: serializers.ScoreSerializer})
    def post(self, request, patient_id):
        serializer = serializers.ScoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        score = treatment_services.score_create(
            scope=self.scope, score=ScaleScore(**serializer.validated_data)
        )
        return Response(serializers.ScoreSerializer(score).data, status=status.HTTP_201_CREATED)


class ScoreDetail(RecordDetail):
    """One score: read, corrected (PATCH, If-Match) or removed with a reason (DELETE)."""

    serializer_class = serializers.ScoreSerializer
    audit_name = "score"

    def find(self, pk):
        return self.scope.score(pk)

    def update(self, record, changes, versions):
        return treatment_services.score_update(
            scope=self.scope, score=record, changes=changes, if_match=versions
        )

    def remove(self, record, reason, versions):
        treatment_services.score_delete(
            scope=self.scope, score=record, reason=reason, if_match=versions
        )


class DiscussionList(PatientScopedView):
    """Discussions of the next-line options with the patient, oldest first: clinicians record
    them, auditors read them."""

    serializer_class = serializers.DiscussionSerializer
    http_method_names = ["get", "post", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "discussions"

    @extend_schema(
        operation_id="patients_discussions_list",
        responses=serializers.DiscussionSerializer(many=True),
    )
    def get(self, request, patient_id):
        return Response(serializers.DiscussionSerializer(self.scope.discussions(), many=True).data)

    @extend_schema(responses={201: serializers.DiscussionSerializer})
    def post(self, request, patient_id):
        serializer = serializers.DiscussionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        discussion = treatment_services.discussion_create(
            scope=self.scope, discussion=Discussion(**serializer.validated_data)
        )
        return Response(
            serializers.DiscussionSerializer(discussion).data, status=status.HTTP_201_CREATED
        )


class DiscussionDetail(RecordDetail):
    serializer_class = serializers.DiscussionSerializer
    audit_name = "discussion"

    def find(self, pk):
        return self.scope.discussion(pk)

    def update(self, record, changes, versions):
        return treatment_services.discussion_update(
            scope=self.scope, discussion=record, changes=changes, if_match=versions
        )

    def remove(self, record, reason, versions):
        treatment_services.discussion_delete(
            scope=self.scope, discussion=record, reason=reason, if_match=versions
        )


class EpisodeList(PatientScopedView):
    """A patient's depressive episodes; the current one is the latest without an end, and its
    onset is the patient's `episode_start`."""

    serializer_class = serializers.EpisodeSerializer
    http_method_names = ["get", "post", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "episodes"

    @extend_schema(
        operation_id="patients_episodes_list", responses=serializers.EpisodeSerializer(many=True)
    )
    def get(self, request, patient_id):
        return Response(serializers.EpisodeSerializer(self.scope.episodes(), many=True).data)

    @extend_schema(responses={201: serializers.EpisodeSerializer})
    def post(self, request, patient_id):
        serializer = serializers.EpisodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        episode = episode_services.episode_create(
            scope=self.scope, episode=Episode(**serializer.validated_data)
        )
        return Response(serializers.EpisodeSerializer(episode).data, status=status.HTTP_201_CREATED)


class SelfReportLinkList(PatientScopedView):
    """A patient's single-use self-report links. POST makes one and answers its address once;
    GET lists them without it (only the token's hash is stored)."""

    serializer_class = serializers.SelfReportLinkSerializer
    http_method_names = ["get", "post", "head", "options"]
    capabilities = READ_WRITE
    audit_name = "self-report-links"

    @extend_schema(
        operation_id="patients_self_report_links_list",
        responses=serializers.SelfReportLinkSerializer(many=True),
    )
    def get(self, request, patient_id):
        return Response(
            serializers.SelfReportLinkSerializer(self.scope.self_report_links(), many=True).data
        )

    @extend_schema(
        request=serializers.SelfReportLinkRequestSerializer,
        responses={201: serializers.SelfReportLinkCreatedSerializer},
    )
    def post(self, request, patient_id):
        body = serializers.SelfReportLinkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        link, token = self_report.link_create(scope=self.scope, scale=body.validated_data["scale"])
        created = serializers.SelfReportLinkCreatedSerializer(
            {
                "id": link.pk,
                "url": request.build_absolute_uri(self_report.public_path(token)),
                "expires": link.expires_at,
            }
        )
        return Response(created.data, status=status.HTTP_201_CREATED)


class EpisodeDetail(RecordDetail):
    serializer_class = serializers.EpisodeSerializer
    audit_name = "episode"

    def find(self, pk):
        return self.scope.episode(pk)

    def update(self, record, changes, versions):
        return episode_services.episode_update(
            scope=self.scope, episode=record, changes=changes, if_match=versions
        )

    @extend_schema(
        request=serializers.DeletionSerializer,
        parameters=[
            OpenApiParameter(
                "reason", str, description="Why the episode is removed (optional; kept when given)."
            )
        ],
    )
    def delete(self, request, patient_id, pk):
        # An episode entered in error: the reason is optional here, kept when given.
        episode_services.episode_delete(
            scope=self.scope,
            episode=self.find(pk),
            reason=deletion_reason(request) or "",
            if_match=if_match(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TrdStatus(PatientScopedView):
    serializer_class = serializers.TrdStatusSerializer
    http_method_names = ["get", "head", "options"]
    capabilities = READ
    audit_name = "trd"

    @extend_schema(parameters=[serializers.TrdQuerySerializer])
    def get(self, request, patient_id):
        query = serializers.TrdQuerySerializer(data=query_values(self.request))
        query.is_valid(raise_exception=True)
        history = patient_history(self.scope.patient, as_of=query.validated_data.get("as_of"))
        body = serializers.TrdEvaluationSerializer(
            history.evaluation, context={"measured": history.measured}
        ).data
        _, stages = patient_warnings_and_staging(history)
        reason = self.scope.patient.trd_not_applicable_reason
        staged = serializers.StagingSerializer(stages).data
        if reason is not None:  # outside the definition: nothing to stage either
            staged = {"maudsley": None, "thase_rush_stage": 0}
        return Response(
            {
                **body,
                **staged,
                "meets_trd": body["meets_trd"] and reason is None,
                "applicable": reason is None,
                "not_applicable_reason": reason,
            }
        )


class PatientOptions(PatientScopedView):
    serializer_class = serializers.OptionSerializer
    http_method_names = ["get", "head", "options"]
    capabilities = READ
    audit_name = "options"

    @extend_schema(responses=serializers.OptionSerializer(many=True))
    def get(self, request, patient_id):
        history = patient_history(self.scope.patient)
        return Response(serializers.OptionSerializer(history.discussed_options(), many=True).data)


class PatientWarnings(PatientScopedView):
    """Warnings derived on read from the recorded trials (treatments.warnings)."""

    serializer_class = serializers.WarningSerializer
    http_method_names = ["get", "head", "options"]
    capabilities = READ
    audit_name = "warnings"

    @extend_schema(
        operation_id="patients_warnings_list", responses=serializers.WarningSerializer(many=True)
    )
    def get(self, request, patient_id):
        found, _ = patient_warnings_and_staging(patient_history(self.scope.patient))
        return Response(serializers.WarningSerializer(found, many=True).data)


class AuditEventList(generics.ListAPIView):
    """GET only: the practice's audit events, filtered like the auditor page."""

    access_guard = access.PRACTICE
    serializer_class = serializers.AuditEventSerializer
    pagination_class = AuditCursorPagination
    http_method_names = ["get", "head", "options"]

    @extend_schema(parameters=form_parameters(AuditFilterForm()))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        events = access.events_visible_to(self.request.user)
        form = AuditFilterForm(query_values(self.request))
        if not form.is_valid():
            raise ValidationError(form.errors)
        return form.filter(events, self.request.user.membership.practice_id)


class TrdHistory(PatientScopedView):
    """The TRD status's changes, oldest first: who or what changed it, and when."""

    serializer_class = serializers.TrdStatusChangeSerializer
    http_method_names = ["get", "head", "options"]
    capabilities = READ
    audit_name = "trd_history"

    @extend_schema(
        operation_id="patients_trd_history_list",
        responses=serializers.TrdStatusChangeSerializer(many=True),
    )
    def get(self, request, patient_id):
        changes = self.scope.patient.trd_changes.order_by("changed_at", "id")
        return Response(serializers.TrdStatusChangeSerializer(changes, many=True).data)
