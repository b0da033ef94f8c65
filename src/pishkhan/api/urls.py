"""URLs of the REST API, mounted at /api/ (pishkhan.urls). Everything lives under v1/ so a
later, incompatible version can sit beside it."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from . import views

app_name = "api"

urlpatterns = [
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("v1/docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path(
        "v1/redoc/",
        # Our own template: drf-spectacular's loads its fonts from Google; ours loads nothing from
        # another host.
        SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html"),
        name="redoc",
    ),
    path("v1/services/", views.ServiceListView.as_view(), name="service-list"),
    path("v1/services/<slug:code>/", views.ServiceDetailView.as_view(), name="service-detail"),
    path(
        "v1/services/<slug:code>/versions/<int:number>/",
        views.ServiceVersionView.as_view(),
        name="service-version",
    ),
    path("v1/cases/", views.CaseListView.as_view(), name="case-list"),
    path("v1/cases/<str:tracking_code>/", views.CaseDetailView.as_view(), name="case-detail"),
    path("v1/cases/<str:tracking_code>/timeline/", views.CaseTimelineView.as_view(), name="case-timeline"),
    path(
        "v1/cases/<str:tracking_code>/documents/", views.CaseDocumentListView.as_view(), name="case-documents"
    ),
    path(
        "v1/cases/<str:tracking_code>/documents/<int:document_id>/download/",
        views.CaseDocumentDownloadView.as_view(),
        name="case-document-download",
    ),
    path("v1/cases/<str:tracking_code>/answer/", views.CaseAnswerView.as_view(), name="case-answer"),
    path("v1/cases/<str:tracking_code>/withdraw/", views.CaseWithdrawView.as_view(), name="case-withdraw"),
    path(
        "v1/cases/<str:tracking_code>/steps/<slug:step_id>/claim/",
        views.StepClaimView.as_view(),
        name="step-claim",
    ),
    path(
        "v1/cases/<str:tracking_code>/steps/<slug:step_id>/release/",
        views.StepReleaseView.as_view(),
        name="step-release",
    ),
    path(
        "v1/cases/<str:tracking_code>/steps/<slug:step_id>/act/",
        views.StepActView.as_view(),
        name="step-act",
    ),
    path(
        "v1/cases/<str:tracking_code>/steps/<slug:step_id>/inspection/",
        views.StepInspectionView.as_view(),
        name="step-inspection",
    ),
    path(
        "v1/cases/<str:tracking_code>/steps/<slug:step_id>/signature/",
        views.StepSignatureView.as_view(),
        name="step-signature",
    ),
    path("v1/status/", views.PublicStatusView.as_view(), name="status"),
    path("v1/queue/", views.QueueView.as_view(), name="queue"),
    # Last: every other path under /api/ answers a JSON 404.
    re_path(r"^.*$", views.NoSuchEndpointView.as_view(), name="no-such-endpoint"),
]
