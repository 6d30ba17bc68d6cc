from django.urls import path

from . import views, views_feeds, views_following, views_search, views_settings

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
    # Follows, feeds, calendars, search, settings (issue 6).
    path("following", views_following.following, name="following"),
    path("following/export", views_following.export, name="following_export"),
    path("following/import", views_following.import_follows, name="following_import"),
    path("follow/<str:user_id>", views_following.follow, name="follow"),
    path("unfollow/<str:user_id>", views_following.unfollow, name="unfollow"),
    path("feeds/live.atom", views_feeds.live_feed, name="feed_live"),
    path("feeds/creator/<str:user_id>.atom", views_feeds.creator_feed, name="feed_creator"),
    path("feeds/category/<str:category_id>.atom", views_feeds.category_feed, name="feed_category"),
    path("calendar.ics", views_feeds.calendar_all, name="calendar"),
    path(
        "calendar/category/<str:category_id>.ics",
        views_feeds.calendar_category,
        name="calendar_category",
    ),
    path(
        "calendar/creator/<str:user_id>.ics", views_feeds.calendar_creator, name="calendar_creator"
    ),
    path("calendar/following.ics", views_feeds.calendar_following, name="calendar_following"),
    path("search", views_search.search_page, name="search"),
    path("settings", views_settings.settings_page, name="settings"),
]
