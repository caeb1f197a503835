"""The API's JSON parser: DRF's, refusing a body nested deeper than MAX_DEPTH before parsing it (Python's parser
would recurse until a RecursionError, a 500), as a 400 with a message."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32  # no request body of the API nests deeper than a few levels


def nesting_depth(text: str, limit: int) -> int:
    """The deepest nesting of arrays and objects in JSON `text` (strings skipped), stopping once past `limit`."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


class DepthLimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        encoding = (parser_context or {}).get("encoding", "utf-8")
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(f"The body is not {encoding} text.") from exc
        if nesting_depth(text, MAX_DEPTH) > MAX_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels.")
        import io

        return super().parse(io.BytesIO(raw), media_type, parser_context)
