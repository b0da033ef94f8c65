from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("schema/<slug:name>.json", views.schema, name="schema"),
]
