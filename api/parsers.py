from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.json_depth import MAX_DEPTH, depth


class DepthLimitedJSONParser(JSONParser):
    """JSON nested deeper than MAX_DEPTH is a 400, not a RecursionError (500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        if depth(data) > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        return data
