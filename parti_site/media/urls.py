from django.urls import path, register_converter

from . import views
from .images import IMAGE_PATH_PREFIX


class TokenConverter:
    """A signed media token (media/signing.py): URL-safe base64, "." and "~" only."""

    regex = r"[A-Za-z0-9_.~-]{1,8192}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class ExtensionConverter(TokenConverter):
    regex = r"[a-z0-9]{1,6}"


register_converter(TokenConverter, "media_token")
register_converter(ExtensionConverter, "media_ext")

app_name = "media"
urlpatterns = [
    path("hls/live/<int:user_id>/master.m3u8", views.live_master, name="live_master"),
    path("hls/video/<int:event_id>/master.m3u8", views.recording_master, name="recording_master"),
    path("hls/p/<media_token:token>.m3u8", views.child_playlist, name="child_playlist"),
    path("hls/s/<media_token:token>.<media_ext:ext>", views.segment, name="segment"),
    path(IMAGE_PATH_PREFIX.strip("/") + "/<media_token:token>", views.image, name="image"),
]
