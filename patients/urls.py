from django.urls import path

from . import views

app_name = "patients"
urlpatterns = [
    path("", views.patient_list, name="patient-list"),
    path("new/", views.patient_create, name="patient-add"),
    path("<int:pk>/", views.patient_detail, name="patient-detail"),
    path("<int:pk>/edit/", views.patient_update, name="patient-edit"),
    path("<int:pk>/delete/", views.patient_delete, name="patient-delete"),
    path("<int:patient_id>/episodes/new/", views.episode_create, name="episode-add"),
    path("<int:patient_id>/episodes/<int:pk>/edit/", views.episode_update, name="episode-edit"),
    path("<int:patient_id>/episodes/<int:pk>/delete/", views.episode_delete, name="episode-delete"),
]
