from django.apps import AppConfig


class PagesConfig(AppConfig):
    name = "parti_site.pages"
    label = "pages"
