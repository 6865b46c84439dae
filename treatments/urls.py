from django.urls import path

from . import self_report_views, views

app_name = "treatments"
urlpatterns = [
    path("trials/new/", views.trial_create, name="trial-add"),
    path("trials/<int:pk>/edit/", views.trial_update, name="trial-edit"),
    path("trials/<int:pk>/delete/", views.trial_delete, name="trial-delete"),
    path(
        "trials/<int:pk>/use-measured-outcome/",
        views.trial_use_measured_outcome,
        name="trial-use-measured",
    ),
    path("medicines/new/", views.medicine_create, name="medicine-add"),
    path("medicines/<int:pk>/edit/", views.medicine_update, name="medicine-edit"),
    path("scores/new/", views.score_create, name="score-add"),
    path("scores/<int:pk>/edit/", views.score_update, name="score-edit"),
    path("scores/<int:pk>/delete/", views.score_delete, name="score-delete"),
    path("self-report-links/new/", self_report_views.link_create, name="self-report-link-add"),
    path("self-report-links/email/", self_report_views.link_email, name="self-report-link-email"),
    path("therapies/new/", views.therapy_create, name="therapy-add"),
    path("therapies/<int:pk>/edit/", views.therapy_update, name="therapy-edit"),
    path("therapies/<int:pk>/delete/", views.therapy_delete, name="therapy-delete"),
    path("discussions/new/", views.discussion_create, name="discussion-add"),
]
