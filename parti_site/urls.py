from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("parti_site.media.urls")),
    path("", include("parti_site.pages.urls")),
]
