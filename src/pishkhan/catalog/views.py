from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe

from .loader import schema_path


@require_safe
def schema(request, name: str):
    """`catalog/schema/<name>.json`: the published JSON Schema of the definition formats
    (process-1, variant-1), so editors and other tools can check files before importing them."""
    try:
        path = schema_path(name)
    except KeyError:
        raise Http404(name) from None
    response = FileResponse(path.open("rb"), content_type="application/schema+json")
    response["Access-Control-Allow-Origin"] = "*"  # a public, read-only document
    return response
