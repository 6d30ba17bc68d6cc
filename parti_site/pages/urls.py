from django.urls import path

from . import views

app_name = "pages"

# Ids are taken as text and checked in the view, so /profile/abc gets our 404 page.
urlpatterns = [
    path("", views.home, name="home"),
    path("live", views.live, name="live"),
    path("schedule", views.schedule, name="schedule"),
    path("featured", views.featured, name="featured"),
    path("recent", views.recent, name="recent"),
    path("profile/<str:user_id>", views.profile, name="profile"),
    path(
        "creator/discord/<str:name>/<str:discriminator>",
        views.creator,
        {"service": "discord"},
        name="creator_discord",
    ),
    path("creator/<str:service>/<str:name>", views.creator, name="creator"),
    path("watch/<str:user_id>", views.watch, name="watch"),
    path("video/<str:event_id>", views.video, name="video"),
    path("about", views.about, name="about"),
    path("healthz", views.healthz, name="healthz"),
]
