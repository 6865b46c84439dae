from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event-list"),
    path("patients/<int:pk>/", views.patient_access_report, name="patient-access"),
]
