"""URLs of the cases app: `cases/` for a case's files (behind the permission check) and, in
`verify_urlpatterns`, the public verification pages under `verify/` (short: it is in a QR code)."""

from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path(
        "<str:tracking_code>/documents/<int:document_id>/", views.document_download, name="document_download"
    ),
    path("<str:tracking_code>/issued/<str:number>.pdf", views.issued_download, name="issued_download"),
]

# Included by the project's urls.py as `path("verify/", include(verify_urlpatterns))`.
verify_urlpatterns = (
    [
        path("", views.verify_lookup, name="lookup"),
        path("<str:code>/", views.issued_verify, name="document"),
    ],
    "verify",
)
