from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("signin/", views.citizen_signin, name="citizen_signin"),
]
