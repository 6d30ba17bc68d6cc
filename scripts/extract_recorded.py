"""Extract the recorded API responses of home-routes.md into the simulator's recorded.json.

    .venv/bin/python scripts/extract_recorded.py [path/to/home-routes.md]

Only two things are changed on the way: `//` comments and trailing commas are removed (they
make the samples invalid JSON). Values stay as recorded, placeholders included. One `/recent`
row has two `avatar_link` keys, a transcription slip (facts.md §1.Q); it keeps one key with the
last value, as JSON parsers do, and the script says so on stderr.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path(__file__).resolve().parent.parent.parent / "shared/parti-api/home-routes.md"
TARGET = ROOT / "parti_site" / "simulator" / "recorded.json"

HEADING = re.compile(r"^\s*(\d+)\.\s+\*\*(.+?)\*\*:?\s*$")
PATH = re.compile(r"^\s*- \*\*Path\*\*: `([^`]+)`")
EXAMPLE_PATH = re.compile(r"^\s*- \*\*Example Path\*\*: `([^`]+)`")


def strip_comments_and_trailing_commas(text: str) -> str:
    """Remove `//` comments and commas before `]`/`}`, outside JSON strings only."""
    out: list[str] = []
    i, in_string = 0, False
    while i < len(text):
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\":
                out.append(text[i + 1])
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif text.startswith("//", i):
            while i < len(text) and text[i] != "\n":
                i += 1
            continue
        else:
            out.append(ch)
        i += 1
    return re.sub(r",(\s*[\]}])", r"\1", "".join(out))


def _last_value_wins(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            print(f"duplicate key {key!r}: keeping the last value {value!r}", file=sys.stderr)
        result[key] = value
    return result


def extract(markdown: str) -> list[dict]:
    # Only the HTTP section; the WebSocket section has numbered items too.
    http = markdown.split("## WebSocket", 1)[0]
    entries: list[dict] = []
    current: dict | None = None
    lines = http.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := HEADING.match(line):
            current = {"name": m.group(2).strip(), "path": None}
        elif current is not None and (m := PATH.match(line)):
            current["path"] = m.group(1)
        elif current is not None and (m := EXAMPLE_PATH.match(line)):
            current["path"] = m.group(1)
        elif current is not None and line.strip() == "```json" and "path" in current:
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            block = strip_comments_and_trailing_commas("\n".join(lines[i + 1 : j]))
            current["response"] = json.loads(block, object_pairs_hook=_last_value_wins)
            entries.append(current)
            current = None
            i = j
        i += 1
    return entries


def main() -> None:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SOURCE
    entries = extract(source.read_text(encoding="utf-8"))
    if len(entries) != 12:
        sys.exit(f"expected 12 recorded routes, found {len(entries)}")
    TARGET.write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} recorded responses to {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
