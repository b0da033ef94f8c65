from django.contrib import admin
from django.urls import include, path

from pishkhan.cases.urls import verify_urlpatterns
from pishkhan.portal import views as portal_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("pishkhan.accounts.urls")),
    path("api/", include("pishkhan.api.urls")),
    path("catalog/", include("pishkhan.catalog.urls")),
    path("services/", include("pishkhan.portal.urls")),
    path("desk/", include("pishkhan.desk.urls")),
    path("cases/", include("pishkhan.cases.urls")),
    path("payments/", include("pishkhan.payments.urls")),
    path("offices/", include("pishkhan.offices.urls")),
    path("verify/", include(verify_urlpatterns)),
    path("track/", portal_views.track, name="track"),
    path("", include("pishkhan.core.urls")),
]
