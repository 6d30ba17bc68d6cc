from django.apps import AppConfig


class UpstreamConfig(AppConfig):
    name = "parti_site.upstream"
    label = "upstream"
