from django.urls import path

from . import closure_views, inbox_views, map_views, views

app_name = "desk"
urlpatterns = [
    path("", views.desk_home, name="home"),
    path("inbox/", inbox_views.inbox, name="inbox"),
    path("inbox/team/", inbox_views.inbox_team, name="inbox_team"),
    path("inbox/steps/<int:position_id>/claim", inbox_views.inbox_claim, name="inbox_claim"),
    path("inbox/steps/<int:position_id>/release", inbox_views.inbox_release, name="inbox_release"),
    path("inbox/<str:tracking_code>/", inbox_views.inbox_case, name="inbox_case"),
    path("map/", map_views.case_map, name="map"),
    path("map/data.json", map_views.case_map_data, name="map_data"),
    path("closures/", closure_views.closures, name="closures"),
    path("closures/<int:closure_id>/remove", closure_views.closure_remove, name="closure_remove"),
    path("processes/", views.process_list, name="process_list"),
    path("processes/import", views.process_import, name="process_import"),
    path("processes/<str:code>/", views.process_detail, name="process_detail"),
    path("processes/<str:code>/compare", views.process_compare, name="process_compare"),
    path("processes/<str:code>/v<int:number>/", views.version_detail, name="version_detail"),
    path("processes/<str:code>/v<int:number>/edit", views.version_edit, name="version_edit"),
    path("processes/<str:code>/v<int:number>/new-draft", views.version_new_draft, name="version_new_draft"),
    path("processes/<str:code>/v<int:number>/publish", views.version_publish_view, name="version_publish"),
]
