"""Seed one cache setting per upstream endpoint with its default, and the switches row.

The defaults are read from upstream/policy.py when this runs, so a fresh install starts
from today's defaults; an endpoint added later needs a migration of its own (until then
its default applies and the admin does not list it).
"""

from django.db import migrations

from parti_site.upstream.policy import DEFAULT_POLICIES


def seed(apps, schema_editor):
    CacheSetting = apps.get_model("instance", "CacheSetting")
    Switches = apps.get_model("instance", "Switches")
    for endpoint, policy in DEFAULT_POLICIES.items():
        CacheSetting.objects.get_or_create(
            endpoint=endpoint, defaults={"ttl": policy.ttl, "stale": policy.stale}
        )
    Switches.objects.get_or_create(pk=1)


def unseed(apps, schema_editor):
    apps.get_model("instance", "CacheSetting").objects.all().delete()
    apps.get_model("instance", "Switches").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("instance", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
