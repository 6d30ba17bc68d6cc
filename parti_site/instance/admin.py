"""The operator's admin: cache settings with purge actions, the instance switches (one
row), and the upstream health page. Every admin view is `never_cache` (admin_view)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from parti_site.live import relay
from parti_site.media import modes
from parti_site.upstream import cache as upstream_cache
from parti_site.upstream.health import EndpointHealth, health
from parti_site.upstream.policy import DEFAULT_POLICIES

from .models import CacheSetting, Switches, UpstreamHealth


def _when(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


@admin.register(CacheSetting)
class CacheSettingAdmin(admin.ModelAdmin):
    list_display = ("endpoint", "pages", "ttl", "stale")
    list_display_links = ("endpoint",)
    list_editable = ("ttl", "stale")
    fields = ("endpoint", "pages", "ttl", "stale")
    readonly_fields = ("endpoint", "pages")
    actions = ["purge_selected"]

    @admin.display(description="affects")
    def pages(self, setting: CacheSetting) -> str:
        return setting.pages

    def has_add_permission(self, request) -> bool:
        return False  # one row per endpoint, seeded by the migration

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description="Purge the cached data of the selected endpoints")
    def purge_selected(self, request, queryset) -> None:
        endpoints = [setting.endpoint for setting in queryset]
        for endpoint in endpoints:
            upstream_cache.purge_endpoint(endpoint)
        self.message_user(
            request, f"Purged: {', '.join(endpoints)}. The next page asks parti again."
        )

    def get_urls(self):
        purge_all = self.admin_site.admin_view(self.purge_all_view)
        return [
            path("purge-all/", purge_all, name="instance_cachesetting_purge_all"),
            *super().get_urls(),
        ]

    def purge_all_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        upstream_cache.bump_generation()
        self.message_user(
            request, "Purged all cached upstream data. The next pages ask parti again."
        )
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
            back = reverse("admin:instance_cachesetting_changelist")
        return HttpResponseRedirect(back)


@admin.register(Switches)
class SwitchesAdmin(admin.ModelAdmin):
    fieldsets = [
        ("Video", {"fields": ["segment_mode", "segment_mode_now", "max_height"]}),
        ("Images", {"fields": ["image_proxy"]}),
        ("Chat", {"fields": ["public_chat"]}),
        ("Announcement", {"fields": ["banner"]}),
    ]
    readonly_fields = ["segment_mode_now"]

    @admin.display(description="segment mode in force")
    def segment_mode_now(self, switches: Switches) -> str:
        return modes.segment_mode()

    def has_add_permission(self, request) -> bool:
        return False  # the one row is seeded by the migration

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def changelist_view(self, request, extra_context=None):
        """There is one row: go straight to its form."""
        Switches.objects.get_or_create(pk=1)
        return HttpResponseRedirect(reverse("admin:instance_switches_change", args=[1]))


@admin.register(UpstreamHealth)
class UpstreamHealthAdmin(admin.ModelAdmin):
    """Not a table: what this process has seen of parti and of its WebSocket relay."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        view = self.admin_site.admin_view(self.changelist_view)
        return [path("", view, name="instance_upstreamhealth_changelist")]

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        seen = health.snapshot()
        endpoints = [
            {
                "name": name,
                "pages": DEFAULT_POLICIES[name].pages if name in DEFAULT_POLICIES else "",
            }
            | _endpoint_row(seen.get(name, EndpointHealth()))
            for name in sorted(set(DEFAULT_POLICIES) | set(seen))
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": "Upstream health",
            "opts": self.model._meta,
            "endpoints": endpoints,
            "relay": _relay_state(),
            "process": os.getpid(),
            "circuit_failures": settings.PARTI_CIRCUIT_FAILURES,
            "started": _when(health.started),
        }
        return TemplateResponse(request, "admin/instance/upstream_health.html", context)


def _endpoint_row(entry: EndpointHealth) -> dict:
    return {
        "calls": entry.calls,
        "failures": entry.failures,
        "hits": entry.hits,
        "misses": entry.misses,
        "stale_served": entry.stale_served,
        "failing": entry.failing,
        "last_success": _when(entry.last_success),
        "last_failure": _when(entry.last_failure),
        "last_failure_kind": entry.last_failure_kind,
        "last_failure_message": entry.last_failure_message,
        # The endpoint's circuit breaker (upstream/circuit.py).
        "circuit": entry.circuit,
        "circuit_since": _when(entry.circuit_since),
        "circuit_failures": entry.circuit_failures,
        "circuit_retry_at": _when(entry.circuit_retry_at),
        "circuit_rejected": entry.circuit_rejected,
    }


def _relay_state() -> dict | None:
    """The relay's state with times as datetimes, or None before this process started it."""
    for _ in range(3):
        try:
            state = relay.state()
            break
        except RuntimeError:  # the relay's loop changed a dict while we read it: read again
            continue
    else:
        return None
    if state is None:
        return None
    sockets = [
        {
            "name": name,
            "connected_since": _when(socket.get("connected_since")),
            "last_frame_at": _when(socket.get("last_frame_at")),
            "reconnects": socket.get("reconnects", 0),
            "frames": socket.get("frames", 0),
            "dropped": socket.get("dropped", 0),
            "last_error": socket.get("last_error", ""),
        }
        for name, socket in state.get("sockets", {}).items()
    ]
    return {
        **state,
        "started_at": _when(state.get("started_at")),
        "connected_since": _when(state.get("connected_since")),
        "last_frame_at": _when(state.get("last_frame_at")),
        "sockets": sockets,
    }
