from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    name = "parti_site.simulator"
    label = "simulator"
