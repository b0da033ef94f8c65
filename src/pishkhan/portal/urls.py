from django.urls import path

from . import apply_views, counter_views, views

app_name = "portal"
urlpatterns = [
    path("", views.service_list, name="service_list"),
    # Before the service pages: `my` is not a service code.
    path("my/", views.my_cases, name="my_cases"),
    path("my/<str:tracking_code>/", views.my_case, name="my_case"),
    path("counter/", counter_views.counter, name="counter"),
    path("counter/file/", counter_views.counter_file, name="counter_file"),
    path("counter/file/upload/", counter_views.counter_upload, name="counter_upload"),
    # <str:>, not <slug:>: a mistyped code gets the catalogue's own 404 page, not a bare one.
    path("<str:code>/", views.service_detail, name="service_detail"),
    path("<str:code>/apply/", apply_views.apply, name="apply"),
    path("<str:code>/apply/upload/", apply_views.apply_upload, name="apply_upload"),
]
