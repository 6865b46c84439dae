from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("exports/", views.export_list, name="export-list"),
    path("exports/<int:pk>/status/", views.export_status, name="export-status"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("exports/patient/<int:patient_id>/", views.export_patient, name="export-patient"),
]
