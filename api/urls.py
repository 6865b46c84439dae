from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import access
from imports import api as import_views
from notifications import api as notification_views

from . import exports, views
from .permissions import DeclaredAccess


class SchemaView(SpectacularAPIView):
    """The OpenAPI description: for the practice's signed-in users, like the docs page."""

    access_guard = access.PRACTICE
    permission_classes = [DeclaredAccess]


class DocsView(SpectacularSwaggerSplitView):
    access_guard = access.PRACTICE
    permission_classes = [DeclaredAccess]


app_name = "api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("auth/tokens/", views.TokenList.as_view(), name="token-list"),
    path("auth/tokens/<str:token_id>/", views.TokenDetail.as_view(), name="token-detail"),
    path("drugs/", views.DrugList.as_view(), name="drug-list"),
    path("patients/", views.PatientList.as_view(), name="patient-list"),
    path("patients/<int:pk>/", views.PatientDetail.as_view(), name="patient-detail"),
    path("patients/<int:patient_id>/trials/", views.TrialList.as_view(), name="trial-list"),
    path(
        "patients/<int:patient_id>/trials/<int:pk>/",
        views.TrialDetail.as_view(),
        name="trial-detail",
    ),
    path("patients/<int:patient_id>/therapies/", views.TherapyList.as_view(), name="therapy-list"),
    path(
        "patients/<int:patient_id>/therapies/<int:pk>/",
        views.TherapyDetail.as_view(),
        name="therapy-detail",
    ),
    path("patients/<int:patient_id>/scores/", views.ScoreList.as_view(), name="score-list"),
    path(
        "patients/<int:patient_id>/scores/<int:pk>/",
        views.ScoreDetail.as_view(),
        name="score-detail",
    ),
    path("patients/<int:patient_id>/episodes/", views.EpisodeList.as_view(), name="episode-list"),
    path(
        "patients/<int:patient_id>/episodes/<int:pk>/",
        views.EpisodeDetail.as_view(),
        name="episode-detail",
    ),
    path(
        "patients/<int:patient_id>/discussions/",
        views.DiscussionList.as_view(),
        name="discussion-list",
    ),
    path(
        "patients/<int:patient_id>/discussions/<int:pk>/",
        views.DiscussionDetail.as_view(),
        name="discussion-detail",
    ),
    path(
        "patients/<int:patient_id>/self-report-links/",
        views.SelfReportLinkList.as_view(),
        name="self-report-link-list",
    ),
    path("patients/<int:patient_id>/trd/", views.TrdStatus.as_view(), name="trd"),
    path("patients/<int:patient_id>/trd/history/", views.TrdHistory.as_view(), name="trd-history"),
    path("patients/<int:patient_id>/options/", views.PatientOptions.as_view(), name="options"),
    path("patients/<int:patient_id>/warnings/", views.PatientWarnings.as_view(), name="warnings"),
    path("audit-events/", views.AuditEventList.as_view(), name="audit-event-list"),
    path("notifications/", notification_views.NotificationList.as_view(), name="notification-list"),
    path(
        "notifications/<int:pk>/read/",
        notification_views.NotificationRead.as_view(),
        name="notification-read",
    ),
    path("exports/", exports.ExportList.as_view(), name="export-list"),
    path("exports/<int:pk>/", exports.ExportDetail.as_view(), name="export-detail"),
    path("exports/<int:pk>/download/", exports.ExportDownload.as_view(), name="export-download"),
    path("imports/", import_views.ImportList.as_view(), name="import-list"),
    path("imports/<int:pk>/", import_views.ImportDetail.as_view(), name="import-detail"),
    path("imports/<int:pk>/confirm/", import_views.ImportConfirm.as_view(), name="import-confirm"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="api:schema"), name="docs"),
]
