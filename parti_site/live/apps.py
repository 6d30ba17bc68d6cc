from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "parti_site.live"
    label = "live"
