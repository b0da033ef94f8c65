from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("pishkhan.accounts.urls")),
    path("catalog/", include("pishkhan.catalog.urls")),
    path("services/", include("pishkhan.portal.urls")),
    path("desk/", include("pishkhan.desk.urls")),
    path("", include("pishkhan.core.urls")),
]
