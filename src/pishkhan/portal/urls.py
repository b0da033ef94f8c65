from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.service_list, name="service_list"),
    # <str:>, not <slug:>: a mistyped code gets the catalogue's own 404 page, not a bare one.
    path("<str:code>/", views.service_detail, name="service_detail"),
]
