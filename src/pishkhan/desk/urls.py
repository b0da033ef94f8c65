from django.urls import path

from . import views

app_name = "desk"
urlpatterns = [
    path("", views.desk_home, name="home"),
    path("processes/", views.process_list, name="process_list"),
    path("processes/import", views.process_import, name="process_import"),
    path("processes/<str:code>/", views.process_detail, name="process_detail"),
    path("processes/<str:code>/compare", views.process_compare, name="process_compare"),
    path("processes/<str:code>/v<int:number>/", views.version_detail, name="version_detail"),
    path("processes/<str:code>/v<int:number>/edit", views.version_edit, name="version_edit"),
    path("processes/<str:code>/v<int:number>/new-draft", views.version_new_draft, name="version_new_draft"),
    path("processes/<str:code>/v<int:number>/publish", views.version_publish_view, name="version_publish"),
]
