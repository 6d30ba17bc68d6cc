"""The 12 responses of parti's API recorded in home-routes.md, as extracted into recorded.json
by scripts/extract_recorded.py (values untouched, placeholders included)."""

import json
from functools import cache
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

RECORDED_FILE = Path(__file__).with_name("recorded.json")


def query_key(path: str, pairs: list[tuple[str, str]]) -> tuple:
    """What makes two requests "the same": the path and the query pairs in any order."""
    return path, tuple(sorted(pairs))


@cache
def _entries() -> tuple[dict, ...]:
    return tuple(json.loads(RECORDED_FILE.read_text(encoding="utf-8")))


def entries() -> list[dict]:
    """[{"name", "path" (with query), "response"}] in home-routes.md order; fresh copies."""
    return json.loads(json.dumps(_entries()))


def by_key() -> dict[tuple, object]:
    """Recorded responses keyed by query_key()."""
    result = {}
    for entry in entries():
        parts = urlsplit(entry["path"])
        result[query_key(parts.path, parse_qsl(parts.query, keep_blank_values=True))] = entry[
            "response"
        ]
    return result
