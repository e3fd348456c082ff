"""Pages any view may answer with."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def problem_page(
    request: HttpRequest, *, problem: str, explanation: str, back_url: str, back_label: str
) -> HttpResponse:
    """The 400 page: what could not be used, why, and a way back."""
    context = {
        "problem": problem,
        "explanation": explanation,
        "back_url": back_url,
        "back_label": back_label,
    }
    return render(request, "400.html", context, status=400)
