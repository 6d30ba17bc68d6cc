"""Shared fixtures: the simulated parti as a real server, settings pointing at it, and a
clean cache for every test."""

import pytest
from django.core.cache import cache

from parti_site.upstream.health import health

pytest_plugins = ["tests.simulator_fixtures", "tests.live_site"]


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()
    health.reset()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def test_static_storage(settings):
    # Tests render templates without running collectstatic first.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def parti(settings, simulated_parti):
    """Point the site at the simulated parti, with its request counts reset."""
    settings.PARTI_API_URL = simulated_parti.api_url
    settings.PARTI_WS_URL = simulated_parti.ws_url
    settings.PARTI_VOD_URL = simulated_parti.vod_url
    settings.PARTI_MEDIA_HOSTS = list(simulated_parti.media_hosts)
    simulated_parti.reset()
    return simulated_parti
