"""The rows the operator edits in /admin/. Saving one tells every process (store.publish)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator
from django.db import models, transaction

from parti_site.upstream.policy import DAY, DEFAULT_POLICIES

MAX_TTL = 7 * DAY
MAX_STALE = 30 * DAY


def _publish_on_commit() -> None:
    from . import store

    # After the commit, so a process that reloads the rows sees the new ones.
    transaction.on_commit(store.publish)


class CacheSetting(models.Model):
    """How long one upstream endpoint's answers are reused. One row per endpoint in
    upstream/policy.py, seeded with its defaults by migration 0002."""

    endpoint = models.CharField(max_length=32, unique=True, editable=False)
    ttl = models.PositiveIntegerField(
        "fresh for (seconds)",
        validators=[MaxValueValidator(MAX_TTL)],
        help_text=(
            "How long an answer from parti is reused before parti is asked again. "
            "0 asks parti on every page view (still one request at a time per page)."
        ),
    )
    stale = models.PositiveIntegerField(
        "serve stale for up to (seconds)",
        validators=[MaxValueValidator(MAX_STALE)],
        help_text=(
            "While parti fails, how long after the fresh time ends the last good copy may "
            "still be shown (with its age). It counts from the end of the fresh time, so "
            "any value makes sense with any TTL, shorter ones included; 0 shows the error "
            "page as soon as parti fails."
        ),
    )

    class Meta:
        ordering = ["endpoint"]
        verbose_name = "cache setting"

    def __str__(self) -> str:
        return self.endpoint

    @property
    def pages(self) -> str:
        """Which pages this endpoint feeds (from upstream/policy.py)."""
        default = DEFAULT_POLICIES.get(self.endpoint)
        return default.pages if default else "(no longer used)"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        _publish_on_commit()


class SegmentMode(models.TextChoices):
    FROM_ENVIRONMENT = "", "As the SEGMENT_MODE environment variable says (direct if unset)"
    DIRECT = "direct", "Direct: viewers fetch video segments from parti's CDN"
    PROXIED = "proxied", "Proxied: all video goes through this server"


QUALITY_CHOICES = [
    (None, "No limit"),
    (1080, "1080p"),
    (720, "720p"),
    (480, "480p"),
    (360, "360p"),
    (160, "160p"),
]


class Switches(models.Model):
    """The instance switches: one row (pk 1), seeded by migration 0002."""

    segment_mode = models.CharField(
        max_length=16,
        choices=SegmentMode.choices,
        default=SegmentMode.FROM_ENVIRONMENT,
        blank=True,
        help_text=(
            "Direct: only the playlist comes from this server; parti's video CDN sees "
            "viewers' addresses, and the instance pays for little traffic. Proxied: every "
            "playlist and segment goes through this server; viewers talk to nobody else, "
            "and the instance carries all the video traffic."
        ),
    )
    image_proxy = models.BooleanField(
        "image proxy",
        default=True,
        help_text=(
            "On: avatars and thumbnails are fetched by this server and served from it. "
            "Off: no pictures from parti at all, placeholders instead (loading them from "
            "parti's hosts directly would let parti see every visitor)."
        ),
    )
    max_height = models.PositiveSmallIntegerField(
        "highest quality when proxied",
        choices=QUALITY_CHOICES,
        null=True,
        blank=True,
        help_text=(
            "Only in proxied mode: taller variants are removed from the playlist, so this "
            "server never relays more than this. Direct mode always offers every quality."
        ),
    )
    public_chat = models.BooleanField(
        "public chat",
        default=True,
        help_text="Off: watch pages show no chat and live updates carry none.",
    )
    banner = models.TextField(
        "announcement banner",
        max_length=500,
        blank=True,
        help_text="Shown at the top of every page, as plain text. Empty: no banner.",
    )

    class Meta:
        verbose_name = "instance switches"
        verbose_name_plural = "instance switches"

    def __str__(self) -> str:
        return "Instance switches"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        _publish_on_commit()


class UpstreamHealth(models.Model):
    """No table: gives the admin index an "Upstream health" entry (admin.py renders it)."""

    class Meta:
        managed = False
        default_permissions = ("view",)
        verbose_name = "upstream health"
        verbose_name_plural = "upstream health"
