"""`{% load live %}`: chat lines as the live socket sends them (wire.chat_line), so the
server-rendered chat and the pushed one read the same."""

from django import template

from parti_site.live import wire

register = template.Library()


@register.filter
def chat_text(line) -> str:
    """A ChatLine's text: the words, or a system line's notice (JSON in post_content)."""
    return wire.notice_text(line.notice) if line.notice else line.content
