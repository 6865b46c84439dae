from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from . import access, admin_views, views
from . import auth_views as signin_views

app_name = "accounts"
urlpatterns = [
    path("users/", admin_views.member_list, name="member-list"),
    path("users/<int:pk>/", admin_views.member_detail, name="member-detail"),
    path("users/<int:pk>/deactivate/", admin_views.member_deactivate, name="member-deactivate"),
    path("users/<int:pk>/reactivate/", admin_views.member_reactivate, name="member-reactivate"),
    path("users/<int:pk>/reset-2fa/", admin_views.member_reset_two_factor, name="member-reset-2fa"),
    path("users/<int:pk>/unlock/", admin_views.member_unlock, name="member-unlock"),
    path(
        "users/<int:pk>/revoke-tokens/",
        admin_views.member_revoke_api_tokens,
        name="member-revoke-tokens",
    ),
    path(
        "users/<int:pk>/password-reset/",
        admin_views.member_send_password_reset,
        name="member-password-reset",
    ),
    path("invitations/", admin_views.invitation_list, name="invitation-list"),
    path("invitations/new/", admin_views.invitation_create, name="invitation-add"),
    path("invitations/<int:pk>/resend/", admin_views.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/revoke/", admin_views.invitation_revoke, name="invitation-revoke"),
    path("invite/<str:token>/", admin_views.invitation_accept, name="invitation-accept"),
    path("settings/", admin_views.practice_settings, name="practice-settings"),
    path("password/", signin_views.PasswordChangeView.as_view(), name="password-change"),
    path("keep-alive/", views.keep_alive, name="keep-alive"),
    # Django's password reset, for anyone who can read the account's email.
    path(
        "password-reset/",
        signin_views.PasswordResetView.as_view(
            success_url=reverse_lazy("accounts:password-reset-done")
        ),
        name="password-reset",
    ),
    path(
        "password-reset/sent/",
        access.public_view(auth_views.PasswordResetDoneView.as_view()),
        name="password-reset-done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        signin_views.PasswordResetConfirmView.as_view(
            success_url=reverse_lazy("accounts:password-reset-complete")
        ),
        name="password-reset-confirm",
    ),
    path(
        "password-reset/done/",
        access.public_view(auth_views.PasswordResetCompleteView.as_view()),
        name="password-reset-complete",
    ),
]
