from django.contrib import admin
from django.urls import include, path

from parti_site.web.views import robots_txt

urlpatterns = [
    path("admin/", admin.site.urls),
    path("robots.txt", robots_txt, name="robots_txt"),
    path("", include("parti_site.media.urls")),
    path("", include("parti_site.pages.urls")),
]
