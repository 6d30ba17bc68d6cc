"""Hostile content from parti (tests/hostile_corpus.json) in every text and URL field of
every answer, through the simulator, the client, the cache and the templates: every page
shows it as text, in the body, the <title>, attributes and data- attributes, and no URL
becomes a javascript:, data: or off-site link.

Feeds and calendars (issue 6) get the corpus in tests/test_feeds_hostile.py, which reuses
`hostile_values()` and the `hostile` fixture."""

from __future__ import annotations

import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.faults_support import PAGES, clear_faults, fault

CORPUS = json.loads((Path(__file__).parent / "hostile_corpus.json").read_text(encoding="utf-8"))
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "poster", "srcset", "data-src", "ping"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "svg", "math", "form", "frame"}
# Ours (issue 6): the charts' and sparklines' SVG, and forms posting to our own paths.
OUR_SVG_CLASSES = ("chart ", "sparkline ")
OUR_FORM_METHODS = {"get", "post"}
# What a browser ignores inside a URL scheme (the HTML and URL standards).
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


def shown(text: str) -> str:
    """How a value reads on our pages: as sent, less bidi embedding/override/isolate
    controls (upstream/parse.py drops them: they would reverse the text after a name)."""
    return text.translate(dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))


def value_of(entry: dict) -> str:
    value = entry["value"]
    return value["repeat"] * value["times"] if isinstance(value, dict) else value


def hostile_values(kind: str) -> list[tuple[str, str]]:
    return [(entry["id"], value_of(entry)) for entry in CORPUS[kind]]


TEXTS = hostile_values("text")
URLS = hostile_values("urls")


def fields_for(index: int) -> dict:
    """Text value `index` in every text field, a URL value in every URL field."""
    text = TEXTS[index][1]
    url = URLS[index % len(URLS)][1]
    return {
        **{name: text for name in CORPUS["text_fields"]},
        **{name: url for name in CORPUS["url_fields"]},
    }


class Page(HTMLParser):
    """What a browser would build from the HTML, as far as these checks care."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.title: list[str] = []
        self.scripts: list[str] = []
        self._open: list[str] = []
        self._svg = 0  # depth inside an <svg>: its tags are recorded as "svg:<tag>"

    def handle_starttag(self, tag, attrs):
        if self._svg:
            tag = f"svg:{tag}"
        self.tags.append((tag, {name: value or "" for name, value in attrs}))
        if tag == "svg" or self._svg:
            self._svg += 1
        if tag in ("title", "script"):
            self._open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if self._svg:
            self._svg -= 1

    def handle_endtag(self, tag):
        if self._svg:
            self._svg -= 1
            return
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data):
        where = self._open[-1] if self._open else None
        if where == "title":
            self.title.append(data)
        elif where == "script":
            self.scripts.append(data)
        else:
            self.text.append(data)

    @property
    def attribute_text(self) -> str:
        return " ".join(v for _, attrs in self.tags for v in attrs.values())


def scheme(url: str) -> str:
    return urlsplit(_URL_NOISE.sub("", unescape(url))).scheme.lower()


def check_markup(html: str, where: str = "") -> Page:
    """Assert that nothing in `html` is markup or a link we did not write; return it parsed."""
    page = Page()
    page.feed(html)
    page.close()
    for tag, attrs in page.tags:
        ours = (tag == "svg" and (attrs.get("class", "") + " ").startswith(OUR_SVG_CLASSES)) or (
            tag == "form"
            and attrs.get("method", "get") in OUR_FORM_METHODS
            and attrs.get("action", "").startswith("/")
        )
        assert ours or tag not in FORBIDDEN_TAGS, (where, tag, attrs)
        handlers = [name for name in attrs if name.startswith("on")]
        assert not handlers, (where, tag, handlers)
        assert "autofocus" not in attrs, (where, tag)
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), (where, attrs)
        if tag == "meta":
            assert attrs.get("http-equiv", "").lower() != "refresh", where
        for name in URL_ATTRIBUTES & attrs.keys():
            url = attrs[name]
            assert scheme(url) in ("", "http", "https"), (where, tag, name, url[:80])
            if scheme(url):
                assert urlsplit(url).hostname != "evil.example", (where, tag, name, url[:80])
            else:
                # Ours: a path on this host (never //host, never a bare "javascript...").
                assert url.startswith(("/", "?", "#")) and not url.startswith("//"), (
                    where,
                    tag,
                    name,
                    url[:80],
                )
    assert not any(s.strip() for s in page.scripts), (where, "inline script")
    assert len([t for t, _ in page.tags if t == "title"]) == 1, where
    return page


@pytest.fixture
def hostile(parti):
    def patch(fields: dict) -> None:
        fault(parti.control_url, "*", mode="patch", fields=fields)

    yield patch
    clear_faults(parti.control_url)


@pytest.mark.parametrize("index", range(len(TEXTS)), ids=[name for name, _ in TEXTS])
def test_hostile_values_are_text_on_every_page(client, hostile, index):
    name, sent = TEXTS[index]
    text = shown(sent)
    hostile(fields_for(index))
    shown_somewhere = False
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        page = check_markup(response.content.decode(), path)
        body = "".join(page.text)
        title = "".join(page.title)
        # Escaped, the value reads back as itself.
        probe = text[:200]
        if probe in body or probe in page.attribute_text:
            shown_somewhere = True
        if path.startswith("/profile/"):  # the creator's name is the page title
            # ... its first 80 characters (truncatechars:80 keeps 79 and an ellipsis).
            assert text.strip()[:79] in title, (path, title[:120])
            assert len(title) < 120, (path, len(title))
            assert probe in body, path
    assert shown_somewhere, name
    if sent != text:
        assert "\u202e" not in response.content.decode()


@pytest.mark.parametrize("index", range(len(URLS)), ids=[name for name, _ in URLS])
def test_hostile_urls_never_become_links_or_images(client, hostile, index):
    _, url = URLS[index]
    hostile({name: url for name in CORPUS["url_fields"]})
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, path
        page = check_markup(response.content.decode(), path)
        images = [attrs["src"] for tag, attrs in page.tags if tag == "img"]
        # Either our signed image proxy or our own placeholder, never the value itself.
        assert all(src.startswith(("/img/", "/static/")) for src in images), (path, images)


def test_the_corpus_covers_what_issue_8_lists():
    ids = {name for name, _ in TEXTS} | {name for name, _ in URLS}
    for needed in (
        "script-tag",
        "attribute-breaker-double",
        "javascript-mixed-case",
        "javascript-tab",
        "javascript-entity",
        "rtl-override",
        "zero-width",
        "long-word",
        "emoji",
    ):
        assert needed in ids
    assert max(len(v) for _, v in TEXTS) >= 10_000


@pytest.mark.parametrize(
    "html",
    [
        '<a href="jAvAsCrIpT:x">a</a>',
        '<a href="java&#x09;script:x">a</a>',
        '<a href="&#106;avascript:x">a</a>',
        '<a href=" \x01javascript:x">a</a>',
        '<img src="data:text/html,x">',
        '<img src="x" onerror="x">',
        "<script>window.__pwned = 1</script>",
        '<a href="//evil.example/">a</a>',
        '<a href="https://evil.example/">a</a>',
        "<svg><circle/></svg>",
        '<input autofocus onfocus="x">',
    ],
)
def test_the_checks_catch_what_they_look_for(html):
    with pytest.raises(AssertionError):
        check_markup(f"<html><head><title>t</title></head><body>{html}</body></html>")
