from base64 import b64decode

from rest_framework import pagination
from rest_framework.exceptions import NotFound

from audit.paging import NEWEST_FIRST, OLDEST_FIRST, Position, newer_than, older_than


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page numbers, strict: `?page=` with no number is an invalid page (404), as the
    schema's "integer ≥ 1" says, not a silent page 1."""

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound(self.invalid_page_message.format(page_number="", message="empty"))
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"]["minimum"] = 1
        return parameters


class AuditCursorPagination(pagination.CursorPagination):
    """DRF's cursor pages of the audit trail, newest first, with the event's (timestamp, id) as
    the cursor's position: unique, so pages never overlap or skip events that share a timestamp
    (DRF's own position is the timestamp alone, with offsets for ties, and its `previous` link
    can skip back wrongly across them). Each page is one index range scan with a LIMIT
    (audit.paging, as on the auditor's pages); nothing counts the trail.

    A cursor that does not decode, or whose position is not one this paginator writes, is 404
    (DRF's answer for an invalid cursor)."""

    ordering = NEWEST_FIRST

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        self.ordering = self.get_ordering(request, queryset, view)
        self.cursor = self.decode_cursor(request)
        offset, reverse, position = self.cursor or (0, False, None)

        if position is None:
            rows = queryset.order_by(*(OLDEST_FIRST if reverse else NEWEST_FIRST))
        else:
            rows = (newer_than if reverse else older_than)(queryset, position)
        results = list(rows[offset : offset + self.page_size + 1])
        self.page = results[: self.page_size]
        following = Position.of(results[-1]) if len(results) > len(self.page) else None

        # From here as in DRF: which links there are, and the positions they start from.
        if reverse:
            self.page.reverse()
            self.has_next = position is not None or offset > 0
            self.has_previous = following is not None
            self.next_position, self.previous_position = position, following
        else:
            self.has_next = following is not None
            self.has_previous = position is not None or offset > 0
            self.next_position, self.previous_position = following, position
        return self.page

    def _get_position_from_instance(self, instance, ordering):
        return Position.of(instance)

    def encode_cursor(self, cursor):
        if cursor.position is not None:
            cursor = cursor._replace(position=cursor.position.encode())
        return super().encode_cursor(cursor)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        try:
            if encoded is not None:
                b64decode(encoded, validate=True)  # DRF's decoding skips what is not base64
        except ValueError:
            raise NotFound(self.invalid_cursor_message) from None
        cursor = super().decode_cursor(request)
        if cursor is None or cursor.position is None:
            return cursor
        position = Position.decode(cursor.position)
        if position is None:
            raise NotFound(self.invalid_cursor_message)
        return cursor._replace(position=position)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["next", "previous", "results"]  # the links are null, not absent
        for link, description in (
            ("next", "Older events; null on the oldest page."),
            ("previous", "Newer events; null on the newest page."),
        ):
            response["properties"][link]["description"] = description
            del response["properties"][link]["example"]  # DRF's has a stray quote
        return response

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.cursor_query_param:
                parameter["schema"]["minLength"] = 1
                parameter["description"] = (
                    "The cursor of a `next` or `previous` link; an invalid one is answered 404."
                )
        return parameters
