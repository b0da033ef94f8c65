from django.urls import path

from . import views

app_name = "offices"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("steps/<str:tracking_code>/<slug:step_id>/", views.step_done, name="step_done"),
    path("statement/", views.statement, name="statement"),
    path("oversight/", views.oversight, name="oversight"),
    path("oversight/<str:licence_number>/", views.oversight_office, name="oversight_office"),
]
