"""GET /api/v1/notifications/ and POST /api/v1/notifications/{id}/read/: the signed-in
user's own notifications (another user's is 404)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import access
from patients.scope import record_list_read

from . import services
from .models import Notification
from .selectors import get_notification_for_user, notifications_visible_to


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField(read_only=True)
    patient = serializers.IntegerField(source="patient_id", read_only=True)
    trial = serializers.IntegerField(source="trial_id", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "due_on", "created_at", "read", "patient", "trial"]
        read_only_fields = fields


BOOLEANS = {"true": True, "false": False}


class NotificationList(generics.ListAPIView):
    access_guard = access.PRACTICE
    serializer_class = NotificationSerializer

    def get_queryset(self):
        notifications = notifications_visible_to(self.request.user)
        unread = self.request.query_params.get("unread")
        if unread is None:
            return notifications
        if unread not in BOOLEANS:
            raise ValidationError({"unread": ["Must be true or false."]})
        return notifications.filter(read_at__isnull=BOOLEANS[unread])

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "unread",
                bool,
                required=False,
                description="true: only the unread ones; false: only the read ones.",
            )
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        record_list_read(
            request, {n.patient_id: n.patient for n in page}.values(), {"api": "notifications"}
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class NotificationRead(APIView):
    access_guard = access.PRACTICE
    serializer_class = NotificationSerializer

    @extend_schema(request=None, responses=NotificationSerializer)
    def post(self, request, pk):
        notification = get_notification_for_user(request.user, pk)
        services.notification_mark_read(notification=notification)
        record_list_read(request, [notification.patient], {"api": "notification-read"})
        return Response(NotificationSerializer(notification).data)
