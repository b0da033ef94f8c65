"""The shell's own pages: the home page and the health check. Domain pages live in their apps."""

from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@require_safe
def home(request):
    """The city's front page: welcome, service search (the catalogue at services/) and the main things to do."""
    return render(request, "core/home.html")


@never_cache
@require_safe
def healthz(request):
    """Liveness and database check for load balancers and `pishkhan serve` supervisors.

    200 `{"status": "ok", "database": "ok"}` when a trivial query succeeds; 503 with
    `"database": "error"` otherwise. The error itself is not shown: the endpoint is public.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "error"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})
