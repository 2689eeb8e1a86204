"""The actuals workbook page: download a year's entry workbook (or CSV), upload it, preview, confirm.

Each view: fetch the plan-year and ask the permission predicates → kpi.transfer reads, checks or
writes (through kpi.workflow) → render or redirect. Between the preview and the confirm the checked
changes wait in the database (kpi.PendingUpload, named by a random token that only this session
holds, with its SHA-256), never in the browser nor on one server's disk, so that any instance behind
the same address may take the confirm: it writes them if every row is still at the version it was
checked against.
"""

import hashlib
import secrets
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from initiatives import permissions
from initiatives.fiscal import fiscal_year_label
from initiatives.models import Department, Plan

from . import transfer
from .models import PendingUpload

SESSION_KEY = "kpi_actuals_upload"
SHOWN = 500  # changes and issues listed on the preview page (all are counted)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("ファイル（.xlsx または CSV）"),
        error_messages={
            "required": _("ファイルを選んでください。"),
            "empty": _("ファイルが空です。"),
            "invalid": _("ファイルを送信できませんでした。もう一度選んでください。"),
        },
    )


def _plan_year(plan_code, year):
    plan = get_object_or_404(Plan, code=plan_code)
    if not plan.covers(year):
        raise Http404(f"その年度は計画期間（{plan.period_label}）の外です。")
    return plan


def _scope(request, plan):
    """(departments the user enters, whether the user enters every department); 403 if neither."""
    user = request.user
    enters_all = user.has_perm(permissions.APPROVE)  # the DX推進部門, who enters every measure
    departments = [
        d
        for d in Department.objects.filter(measures__plan=plan).distinct().order_by("code")
        if user.has_perm(permissions.ENTER_DEPARTMENT, d)
    ]
    permissions.require(enters_all or departments)
    return departments, enters_all


def actuals(request, plan_code, year):
    """The page: downloads per department, and the upload that leads to the preview."""
    plan = _plan_year(plan_code, year)
    departments, enters_all = _scope(request, plan)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > transfer.MAX_UPLOAD_BYTES:
            form.add_error("file", transfer.too_large_message())
        else:
            _discard(request)  # an earlier preview of this session is replaced by this one
            preview = transfer.preview_upload(plan, year, request.user, upload.read(), upload.name)
            token = None
            if preview.ok and preview.changes:
                token = _keep(request, plan, year, transfer.kept_changes(preview), upload.name)
            return _preview_page(request, plan, year, preview, upload.name, token)
    context = {
        "plan": plan,
        "year": year,
        "departments": departments,
        "enters_all": enters_all,
        "form": form,
        "max_mb": transfer.MAX_UPLOAD_BYTES // 2**20,
        "max_rows": f"{transfer.MAX_ROWS:,}",
    }
    return render(request, "kpi/actuals_import.html", context)


def actuals_download(request, plan_code, year):
    """?department=<code> (or none: every department, for the DX推進部門) & format=xlsx|csv."""
    plan = _plan_year(plan_code, year)
    output = request.GET.get("format", "xlsx")
    if output not in ("xlsx", "csv"):
        raise Http404("その形式はありません。")
    code = request.GET.get("department")
    department = get_object_or_404(Department, code=code) if code else None
    if department is None:
        permissions.require(request.user.has_perm(permissions.APPROVE))
    else:
        permissions.require(request.user.has_perm(permissions.ENTER_DEPARTMENT, department))
    records = transfer.entry_rows(plan, year, department)
    dataset = transfer.export_dataset(records)
    name = transfer.file_name(plan, year, department, output)
    if output == "csv":
        return _attachment(transfer.to_csv(dataset), transfer.CSV, name)
    title = f"{plan.title} {fiscal_year_label(year)} 実績入力（{department.name if department else '全課'}）"
    return _attachment(transfer.to_xlsx(records, dataset, title), transfer.XLSX, name)


@require_POST
def actuals_confirm(request, plan_code, year):
    """Write the previewed changes through kpi.workflow, all or nothing."""
    plan = _plan_year(plan_code, year)
    _scope(request, plan)
    kept = _take(request, plan, year, request.POST.get("token", ""))
    if kept is None:
        messages.error(
            request,
            "取り込むファイルが見つかりません（確認画面の有効期限切れなど）。もう一度アップロードしてください。",
        )
        return redirect("kpi:actuals", plan_code=plan.code, year=year)
    changes, name = kept
    result = transfer.confirm_upload(plan, year, request.user, changes)
    if not result.ok:
        messages.error(
            request,
            "取り込みを中止しました（何も保存していません）。誤りのある行を直して、もう一度アップロードしてください。",
        )
        return _preview_page(request, plan, year, result, name, None)
    if result.saved:
        messages.success(request, f"{result.saved:,}件を取り込みました（履歴の理由：取込）。")
    else:
        messages.success(request, "変更はありませんでした（何も保存していません）。")
    return redirect("kpi:actuals", plan_code=plan.code, year=year)


def _preview_page(request, plan, year, preview, name, token):
    context = {
        "plan": plan,
        "year": year,
        "preview": preview,
        "name": name,
        "token": token,
        "changes": preview.changes[:SHOWN],
        "issues": preview.issues[:SHOWN],
        "shown": SHOWN,
    }
    return render(request, "kpi/actuals_preview.html", context)


def _attachment(content, content_type, filename):
    """A download whose Japanese file name survives every browser (RFC 6266 / 5987)."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


# --- The upload between preview and confirm ----------------------------------------------------------


def _discard(request):
    kept = request.session.pop(SESSION_KEY, None)
    if kept:
        PendingUpload.objects.filter(token=kept["token"]).delete()


def _keep(request, plan, year, content, name):
    """Keep the checked changes for the confirm; the session holds their token and digest."""
    stale = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
    PendingUpload.objects.filter(created_at__lt=stale).delete()  # previews never confirmed
    token = secrets.token_urlsafe(24)
    digest = hashlib.sha256(content).hexdigest()
    PendingUpload.objects.create(
        token=token,
        user=request.user,
        plan=plan,
        fiscal_year=year,
        filename=name,
        digest=digest,
        payload=content.decode(),
    )
    request.session[SESSION_KEY] = {"token": token, "plan": plan.code, "year": year, "name": name, "sha256": digest}
    return token


def _take(request, plan, year, token):
    """The kept changes if this session previewed them for this plan-year; removed either way."""
    kept = request.session.get(SESSION_KEY)
    if (
        not kept
        or not secrets.compare_digest(kept["token"].encode(), token.encode())
        or (kept["plan"], kept["year"]) != (plan.code, year)
    ):
        return None
    pending = PendingUpload.objects.filter(
        token=kept["token"], user=request.user, plan=plan, fiscal_year=year, digest=kept["sha256"]
    ).first()
    _discard(request)
    if pending is None:
        return None
    content = pending.payload.encode()
    if hashlib.sha256(content).hexdigest() != kept["sha256"]:
        return None
    return content, kept["name"]
