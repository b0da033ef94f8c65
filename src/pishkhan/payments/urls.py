from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("start/<str:tracking_code>/<str:step_id>/", views.start, name="start"),
    path("callback/", views.callback, name="callback"),
    path("result/<int:payment_id>/", views.result, name="result"),
    path("sandbox/<str:token>/", views.sandbox, name="sandbox"),
]
