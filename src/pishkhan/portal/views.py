"""The public catalogue of services: the list with its search, and a page per service. Thin: the
forms read the question, catalog.selectors answer it, the page presenters (diagram, fees) shape
the definition for people, the templates draw it. Nothing here writes."""

from __future__ import annotations

from dataclasses import dataclass

from django.shortcuts import render
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from pishkhan.accounts.models import Role
from pishkhan.catalog import selectors
from pishkhan.catalog.definition import CHANNELS, Definition, Text
from pishkhan.catalog.metrics import definition_metrics

from .diagram import service_flow
from .fees import estimate_questions, fees_estimate, fees_explained
from .forms import FeeEstimateForm, ServiceSearchForm
from .labels import category_label, category_order, channel_label

SUMMARY_WORDS = 20


@dataclass
class Entry:
    """A service as the catalogue lists it."""

    code: str
    title: str
    summary: str
    category: str
    category_label: str
    norm_days: float | None
    channels: list[tuple[str, str]]  # (code, label)


def _language() -> str:
    return (get_language() or "fa").split("-")[0]


def _channels(definition: Definition) -> list[tuple[str, str]]:
    """(code, label) of the channels, always in the same order: online, office, counter."""
    return [(code, channel_label(code)) for code in CHANNELS if code in definition.channels]


def _entry(service, definition: Definition, language: str) -> Entry:
    description = definition.description.get(language) if definition.description else ""
    return Entry(
        code=service.code,
        title=definition.title.get(language),
        summary=Truncator(description).words(SUMMARY_WORDS, truncate="…"),
        category=definition.category,
        category_label=category_label(definition.category),
        norm_days=definition.service_norm_days,
        channels=_channels(definition),
    )


def _entries(services, language: str) -> list[Entry]:
    entries = []
    for service in services:
        version = selectors.version_current(service)
        if version is not None:
            entries.append(_entry(service, selectors.version_definition(version), language))
    return entries


def not_found(request, *, message: str = ""):
    """The catalogue's 404 page: says what was not found and leads back to the list."""
    return render(request, "portal/not_found.html", {"message": message}, status=404)


@require_safe
def service_list(request):
    """`services/?q=…&category=…`: the published services, searched and filtered, grouped by
    category when neither is given. A query too long or an unknown category: 400 with the message,
    what was typed kept, and the whole catalogue below it."""
    language = _language()
    everything = list(selectors.service_list())
    categories = sorted({s.category for s in everything if s.category}, key=category_order)
    form = ServiceSearchForm(request.GET or None, categories=categories)
    query, category, status = "", "", 200
    if form.is_bound:
        if form.is_valid():
            query, category = form.cleaned_data["q"], form.cleaned_data["category"]
        else:
            status = 400
    searching = bool(query or category)
    services = selectors.service_search(query=query, category=category or None) if searching else everything
    entries = _entries(services, language)
    groups = []
    if not searching:
        for code in [*categories, ""]:
            members = [e for e in entries if e.category == code]
            if members:
                groups.append({"code": code, "label": category_label(code), "entries": members})
    context = {
        "form": form,
        "query": query,
        "category": category,
        "category_title": category_label(category) if category else "",
        "categories": [(code, category_label(code)) for code in categories],
        "searching": searching,
        "entries": entries,
        "groups": groups,
        "total": len(everything),
    }
    return render(request, "portal/service_list.html", context, status=status)


def role_titles() -> dict[str, Text]:
    """Role code → title for the roles the city has (accounts.Role)."""
    return {
        code: Text(fa=name_fa, en=name_en)
        for code, name_fa, name_en in Role.objects.values_list("code", "name_fa", "name_en")
    }


@require_safe
def service_detail(request, code: str):
    """`services/<code>/`: everything a citizen needs before applying, from the published version.
    `?estimate=1&fee-…=…` also works out the fees for the answers given (400 with the messages
    when an answer is not valid). An unknown code, or a service with nothing published: 404."""
    service = selectors.service_get(code)
    version = selectors.version_current(service) if service is not None else None
    if version is None:
        return not_found(request, message=code)
    language = _language()
    definition = selectors.version_definition(version)
    flow = service_flow(definition, language=language, role_titles=role_titles())
    fees = fees_explained(definition, language=language, side_steps={box.id for box in flow.side})
    questions = estimate_questions(definition, fees)
    estimating = "estimate" in request.GET
    form = FeeEstimateForm(request.GET if estimating else None, questions=questions, language=language)
    estimate, status = None, 200
    if estimating and questions:
        if form.is_valid():
            estimate = fees_estimate(fees, form.values())
        else:
            status = 400
    steps_by_id = {s.id: s for s in definition.steps}
    documents = [
        {
            "title": doc.title.get(language),
            "formats": [fmt.upper() for fmt in doc.formats],
            "max_size_mb": doc.max_size_mb,
            "required": doc.required,
            "step": steps_by_id[doc.step].title.get(language)
            if doc.step in steps_by_id and steps_by_id[doc.step].title
            else "",
        }
        for doc in definition.documents
    ]
    context = {
        "service": service,
        "version": version,
        "definition": definition,
        "title": definition.title.get(language),
        "description": definition.description.get(language) if definition.description else "",
        "eligibility": definition.eligibility.get(language) if definition.eligibility else "",
        "category_label": category_label(definition.category),
        "channels": _channels(definition),
        "documents": documents,
        "fees": fees,
        "estimate_form": form,
        "estimate": estimate,
        "estimating": estimating,
        "outputs": [
            {"title": o.title.get(language), "valid_days": o.valid_days, "kind": o.kind}
            for o in definition.outputs
        ],
        "flow": flow,
        "metrics": definition_metrics(definition),
    }
    return render(request, "portal/service_detail.html", context, status=status)
