"""The import page: a thread in by files, pasted text or its address; progress; summary."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from quest.http import AuthenticatedHttpRequest
from votes import import_jobs
from votes.forms import ImportForm
from votes.models import ImportJob

POLL_SECONDS = 1


def _get_job_for_importer(request: AuthenticatedHttpRequest, pk: int) -> ImportJob:
    # Another user's import is nobody's business: it does not exist for them.
    job = get_object_or_404(ImportJob.objects.select_related("quest"), pk=pk)
    if job.by_id != request.user.pk:
        raise Http404
    return job


@login_required
@require_http_methods(["GET", "POST"])
def import_thread(request: AuthenticatedHttpRequest) -> HttpResponse:
    posted = request.method == "POST"
    form = ImportForm(request.POST, request.FILES) if posted else ImportForm()
    if posted and form.is_valid():
        try:
            sources = form.sources()
        except ValidationError as e:
            form.add_error("uploads" if form.kind == "files" else "text", e)
        else:
            job = import_jobs.import_job_create(
                by=request.user,
                kind=form.kind,
                sources=sources,
                url=form.cleaned_data["url"].strip(),
                format=form.cleaned_data["format"],
            )
            return redirect("import-job", pk=job.pk)
    return render(request, "votes/import.html", {"form": form})


@login_required
@require_GET
@vary_on_headers("HX-Request")
def import_job(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The import's progress (polled by htmx while it runs), then its summary."""
    job = _get_job_for_importer(request, pk)
    summary = import_jobs.import_summary(job.quest) if job.quest is not None else None
    polling = not job.is_finished or (summary is not None and summary.reading)
    context = {"job": job, "summary": summary, "polling": polling, "poll_seconds": POLL_SECONDS}
    if request.htmx:
        response = render(request, "votes/import_job.html#status", context)
        # The summary is final: htmx swaps it in and stops asking.
        return response if polling else HttpResponseStopPolling(response.content)
    return render(request, "votes/import_job.html", context)
