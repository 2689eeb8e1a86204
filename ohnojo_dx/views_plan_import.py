"""The plan workbook in the browser.

Every signed-in role may download any plan (as the workbook or the JSON plan file) and the empty
template. Only the DX推進部門 imports: upload → a dry run that shows the counts and every problem
(sheet, row, column) → confirm, which writes everything or nothing. Between the two steps the
uploaded bytes stay in the server-side session (the same cap as the upload), and the confirm checks
them again from the start.
"""

import base64
import hashlib

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from budget.views import XLSX, attachment
from initiatives import permissions
from initiatives.models import Plan

from .plan_export import PlanExportError, plan_to_data, plan_to_json
from .plan_loader import PlanFileError
from .plan_workbook import (
    MAX_BYTES,
    MB,
    WorkbookError,
    check_workbook,
    import_workbook,
    template_workbook,
    write_workbook,
)

SESSION_KEY = "plan_workbook_upload"


def _export(request, plan_code, make):
    plan = get_object_or_404(Plan, code=plan_code)
    try:
        return make(plan)
    except PlanExportError as error:
        messages.error(request, str(error))
        return redirect(plan)


def plan_workbook(request, plan_code):
    return _export(
        request,
        plan_code,
        lambda plan: attachment(write_workbook(plan_to_data(plan)), XLSX, f"{plan.title}_計画ブック.xlsx"),
    )


def plan_file(request, plan_code):
    return _export(
        request,
        plan_code,
        lambda plan: attachment(plan_to_json(plan), "application/json", f"{plan.title}_計画ファイル.json"),
    )


def plan_workbook_template(request):
    return attachment(template_workbook(), XLSX, "計画ブック_ひな形.xlsx")


class PlanUploadForm(forms.Form):
    file = forms.FileField(label=_("計画ブック（.xlsx）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（上限 %(mb)s MB）。"), code="too_large", params={"mb": MAX_BYTES // MB}
            )
        return upload.read(MAX_BYTES + 1)


def _keep(request, content):
    """Hold the uploaded bytes for the confirm; the digest ties the confirm to this very preview."""
    digest = hashlib.sha256(content).hexdigest()
    request.session[SESSION_KEY] = {"digest": digest, "content": base64.b64encode(content).decode("ascii")}
    return digest


def _take(request, digest):
    """The bytes previewed as ``digest``, taken out of the session; None if they are not there."""
    kept = request.session.pop(SESSION_KEY, None)
    if not kept or kept.get("digest") != digest:
        return None
    content = base64.b64decode(kept["content"])
    return content if hashlib.sha256(content).hexdigest() == digest else None


def _render(request, form, parsed=None, digest=None, status=200):
    context = {"form": form, "parsed": parsed, "digest": digest, "max_mb": MAX_BYTES // MB}
    return render(request, "ohnojo_dx/plan_import.html", context, status=status)


def plan_import(request):
    permissions.require(request.user.has_perm(permissions.ADMIN))
    form = PlanUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        request.session.pop(SESSION_KEY, None)  # a new upload replaces whatever was previewed before
        content = form.cleaned_data["file"]
        try:
            parsed = check_workbook(content)  # the dry run: nothing is kept
        except PlanFileError as error:
            form.add_error("file", str(error))
        else:
            digest = None if parsed.problems else _keep(request, content)
            return _render(request, PlanUploadForm(), parsed, digest)
    return _render(request, form)


@require_POST
def plan_import_confirm(request):
    permissions.require(request.user.has_perm(permissions.ADMIN))
    content = _take(request, request.POST.get("digest", ""))
    if content is None:
        messages.error(request, "確認した計画ブックが見つかりません。もう一度アップロードしてください。")
        return redirect(reverse("plan_import"))
    try:
        plan = import_workbook(content)  # checked again from the start: the database may have changed
    except PlanFileError as error:
        messages.error(request, str(error))
        return redirect(reverse("plan_import"))
    except WorkbookError as error:
        return _render(request, PlanUploadForm(), error.parsed, status=409)
    messages.success(
        request, f"計画「{plan.title}」を取り込みました（{plan.measure_level} {plan.measures.count()} 件）。"
    )
    return redirect(plan)
