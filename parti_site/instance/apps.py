from django.apps import AppConfig
from django.db.models.signals import post_migrate


class InstanceConfig(AppConfig):
    name = "parti_site.instance"
    label = "instance"
    verbose_name = "This instance"

    def ready(self):
        from . import store

        # A migration may change the rows; every process reads them afresh.
        post_migrate.connect(lambda **kwargs: store.publish(), sender=self, weak=False)
