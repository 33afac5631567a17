"""The API's JSON parser: DRF's, refusing with a 400 what it would let through as a 500.

Python's json module parses nested arrays and objects by recursion, so about a thousand levels
(under 2 KB of `[[[[...`) raise RecursionError, which is not the ValueError DRF's JSONParser
turns into a 400. No body of this API is more than a few levels deep, so a body nested deeper
than MAX_DEPTH is refused too, before a serializer (or a log line, or a fingerprint of the body
for an idempotency key) walks it by recursion again.

The catalog and payments services have a copy (core/parsers.py): keep the copies equal.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# The deepest body of this API is an order: {"lines": [{"sku": ...}]}, three levels. 32 leaves
# room for any future body and stays far below Python's recursion limit (1,000 frames).
MAX_DEPTH = 32


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            too_deep = _depth_exceeds(data, MAX_DEPTH)
        except RecursionError:
            too_deep = True
        if too_deep:
            raise ParseError(f"JSON parse error - the body is nested more than {MAX_DEPTH} levels deep.")
        return data


def _depth_exceeds(data, limit):
    """Whether `data` nests lists and dicts more than `limit` deep; a loop, not a recursion."""
    level = [data]
    for _ in range(limit):
        level = [
            child
            for node in level
            if isinstance(node, (list, dict))
            for child in (node.values() if isinstance(node, dict) else node)
        ]
        if not level:
            return False
    return any(isinstance(node, (list, dict)) for node in level)
