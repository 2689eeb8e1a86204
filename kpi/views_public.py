"""The public side (no login): published years of a plan, their open data and its schema; and the
DX推進部門's page that publishes a year. What is shown is decided in kpi.publishing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from initiatives import permissions
from initiatives.fiscal import period_label
from initiatives.models import Plan

from . import publishing
from .forms import ExternalReviewForm, PublishForm
from .models import DEFAULT_LICENCE, ExternalReview, MeasureYear, Publication
from .views import _plan_year


@require_GET
@login_not_required
def public_index(request):
    """Every published year, plan by plan. Queries: the publications with their plans."""
    publications = (
        Publication.objects.filter(withdrawn=False).select_related("plan").order_by("plan__code", "-fiscal_year")
    )
    plans = {}
    for publication in publications:
        plans.setdefault(publication.plan, []).append(publication)
    return render(request, "kpi/public_index.html", {"plans": plans})


def _published(plan_code, year, period=""):
    published = Publication.objects.filter(withdrawn=False).select_related("plan")
    return get_object_or_404(published, plan__code=plan_code, fiscal_year=year, period=period)


@require_GET
@login_not_required
def public_year(request, plan_code, year, period=""):
    """A published year: the plan tree with each measure's target, actual and grade, the grade counts.
    Queries: the publication and plan, the plan's other published years, thresholds, the named 改善方針,
    the facts (2), the public 外部評価."""
    publication = _published(plan_code, year, period)
    periods = Publication.objects.filter(plan=publication.plan, withdrawn=False).order_by("fiscal_year", "period")
    shown = publishing.public_year(publication)
    return render(
        request,
        "kpi/public_year.html",
        {
            "shown": shown,
            "plan": publication.plan,
            "publication": publication,
            "periods": list(periods),
            "reviews": publishing.public_reviews(publication),
        },
    )


def _file_name(publication, extension):
    half = f"-{publication.period.lower()}" if publication.period else ""
    return f"{publication.plan.code}-{publication.fiscal_year}{half}.{extension}"


# The open data's formats: (file extension, content type, how a PublicYear writes it).
DOWNLOADS = {
    "csv": ("text/csv; charset=utf-8", lambda shown: shown.to_csv()),
    "json": ("application/json", lambda shown: shown.to_json()),
}


def _download(plan_code, year, period, extension):
    """A published period's open data as a file, with its licence in a Link header."""
    publication = _published(plan_code, year, period)
    content_type, write = DOWNLOADS[extension]
    response = HttpResponse(write(publishing.public_year(publication)), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{_file_name(publication, extension)}"'
    response["Link"] = f'<{publication.licence_url}>; rel="license"'
    return response


@require_GET
@login_not_required
def public_csv(request, plan_code, year, period=""):
    return _download(plan_code, year, period, "csv")


@require_GET
@login_not_required
def public_json(request, plan_code, year, period=""):
    return _download(plan_code, year, period, "json")


@require_GET
@login_not_required
def open_data_schema(request):
    """The schema the CSV and the JSON follow (kpi/open_data.schema.json)."""
    return JsonResponse(publishing.schema(), json_dumps_params={"ensure_ascii": False, "indent": 1})


def publish(request, plan_code, year):
    """The DX推進部門 publishes a plan's year, changes what is public, or withdraws it.

    Queries (GET): plan, the publication, those 改善方針 it names, those it may name, the counts."""
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    permissions.require(request.user.has_perm(permissions.APPROVE))
    period = request.GET.get("period", "")
    if period not in publishing.publishable_periods(plan):
        raise Http404("この計画にその期はありません。")
    publication = Publication.objects.filter(plan=plan, fiscal_year=year, period=period).first()
    improvements = publishing.publishable_improvements(plan, year)
    initial = {
        "seen_version": publication.version if publication else 0,
        "licence": publication.licence if publication else DEFAULT_LICENCE[0],
        "licence_url": publication.licence_url if publication else DEFAULT_LICENCE[1],
        "improvements": list(publication.public_improvements.all()) if publication else [],
    }
    form = PublishForm(request.POST or None, initial=initial, improvements=improvements)
    label = period_label(year, period)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if "withdraw" in request.POST:
                publishing.withdraw(plan, year, request.user, data["seen_version"], period)
                messages.success(request, f"{label}の公表を取り下げました。公開ページとオープンデータから外れました。")
                return redirect(request.get_full_path())
            publishing.publish(
                plan,
                year,
                request.user,
                data["seen_version"],
                data["licence"],
                data["licence_url"],
                data["improvements"],
                period=period,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, f"{label}の結果を公表しました。")
            return redirect(request.get_full_path())
    approved = Q(years__fiscal_year=year, years__status=MeasureYear.Status.APPROVED)
    counts = plan.measures.aggregate(measures=Count("pk", distinct=True), approved=Count("pk", filter=approved))
    published = publication is not None and not publication.withdrawn
    context = {
        "plan": plan,
        "year": year,
        "period": period,
        "period_label": label,
        "periods": [(p, period_label(year, p)) for p in publishing.publishable_periods(plan)],
        "publication": publication,
        "published": published,
        "form": form,
        **counts,
    }
    return render(request, "kpi/publish_form.html", context)


def external_reviews(request, plan_code, year):
    """外部評価 of a plan's year: everyone signed in reads them; the DX推進部門 records and removes them.

    Queries (GET): plan, the year's reviews with their measures."""
    plan = get_object_or_404(Plan, code=plan_code)
    _plan_year(plan, year)
    can_record = request.user.has_perm(permissions.APPROVE)
    form = ExternalReviewForm(request.POST or None, plan=plan, year=year) if can_record else None
    if request.method == "POST":
        permissions.require(can_record)
        if "delete" in request.POST:
            review = get_object_or_404(ExternalReview, plan=plan, fiscal_year=year, pk=request.POST["delete"])
            review._history_user, review._change_reason = request.user, "外部評価の削除"
            review.delete()
            messages.success(request, "外部評価を削除しました。")
            return redirect(reverse("kpi:external_reviews", args=[plan.code, year]))
        if form.is_valid():
            review = form.save(commit=False)
            review.recorded_by = request.user
            review._history_user, review._change_reason = request.user, "外部評価の記録"
            review.save()
            messages.success(request, f"{review.reviewer}の意見を記録しました。")
            return redirect(reverse("kpi:external_reviews", args=[plan.code, year]))
    reviews = ExternalReview.objects.filter(plan=plan, fiscal_year=year).select_related("measure")
    context = {"plan": plan, "year": year, "reviews": reviews, "form": form, "can_record": can_record}
    return render(request, "kpi/external_reviews.html", context)
