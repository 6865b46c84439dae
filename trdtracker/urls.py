from django.contrib import admin
from django.urls import include, path

from accounts import auth_views
from accounts.views import home
from treatments.self_report_views import self_report_page

handler404 = "trdtracker.errors.not_found"
handler500 = "trdtracker.errors.server_error"

urlpatterns = [
    path("", home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/2fa/", include("accounts.twofactor.urls")),
    path("accounts/", include("accounts.urls")),
    path("patients/import/", include("imports.urls")),
    path("patients/", include("patients.urls")),
    path("patients/<int:patient_id>/", include("treatments.urls")),
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("dashboard/", include("reports.dashboard_urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include("api.urls")),
    path("r/<str:token>/", self_report_page, name="self-report"),
    path("admin/", admin.site.urls),
]
