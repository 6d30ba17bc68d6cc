from django.apps import AppConfig


class MediaConfig(AppConfig):
    name = "parti_site.media"
    label = "media"
