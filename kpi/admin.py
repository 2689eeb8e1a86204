"""Admin for targets and records. Targets of a locked year are shown read-only, and every save or
delete of a target goes through kpi.workflow; PDCA records are read-only here (the portal's pages
are their door)."""

import json

from django import forms
from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from initiatives.admin import HistoryAdmin, ListOnly, PortalAdmin, PortalAdminForm, ReadOnlyAdmin

from . import workflow
from .models import (
    BarStatus,
    EntryDeadline,
    ExternalReview,
    GradeThreshold,
    Kgi,
    KpiTarget,
    MeasureYear,
    Publication,
    ReminderSent,
)

ADMIN_REASON = "管理画面"


class PlanYearForm(PortalAdminForm):
    """A year's target or cost: refused when its year (the old one or the new one) is locked, or when
    it was changed by someone else (a plan revision, another admin page) after this page was opened:
    ``seen`` carries the row as the page showed it."""

    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["seen"].initial = self._stored()

    def _stored(self):
        """The row as stored when this form was built (its initial values), as text."""
        names = [n for n in self.fields if n not in ("seen", "id", "DELETE", "measure")]
        return json.dumps({n: None if self.initial.get(n) is None else str(self.initial.get(n)) for n in names})

    def clean(self):
        data = super().clean()
        if self.instance.pk and self.is_bound and data.get("seen") != self._stored():
            raise forms.ValidationError(str(workflow.Conflict()), code="stale")
        if self.has_changed():
            measure_id = data["measure"].pk if data.get("measure") else self.instance.measure_id
            was = (self.initial.get("measure", self.instance.measure_id), self.initial.get("fiscal_year"))
            workflow.check_years_open({(measure_id, data.get("fiscal_year")), was})
        return data


class PlanYearFormSet(BaseInlineFormSet):
    """A measure's yearly rows: a locked year's row is shown, not editable; saves go through the door."""

    user = None  # set by the admin before saving

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locked = workflow.locked_years([self.instance.pk]) if self.instance.pk else set()
        for form in self.initial_forms:
            if (form.instance.measure_id, form.instance.fiscal_year) in locked:
                for field in form.fields.values():
                    field.disabled = True  # DELETE too: a locked year's row stays

    def save_new(self, form, commit=True):
        row = form.save(commit=False)
        return workflow.save_plan_row(row, self.user, ADMIN_REASON) if commit else row

    def save_existing(self, form, obj, commit=True):
        return self.save_new(form, commit)

    def delete_existing(self, obj, commit=True):
        if commit:
            workflow.delete_plan_row(obj, self.user, ADMIN_REASON)


class PlanYearInline(admin.TabularInline):
    extra = 0
    form = PlanYearForm
    formset = PlanYearFormSet


class PlanYearAdmin(HistoryAdmin):
    """A standalone list of yearly rows: read-only once the year is locked; writes through the door."""

    form = PlanYearForm
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]
    search_fields = ["measure__name", "measure__code"]

    def _open(self, obj):
        return obj is None or not workflow.locked_years([obj.measure_id], [obj.fiscal_year])

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._open(obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._open(obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one row at a time, each through the door
        return actions

    def save_model(self, request, obj, form, change):
        workflow.save_plan_row(obj, request.user, ADMIN_REASON)

    def delete_model(self, request, obj):
        workflow.delete_plan_row(obj, request.user, ADMIN_REASON)


class KgiInline(admin.StackedInline):
    model = Kgi
    form = PortalAdminForm
    extra = 0
    max_num = 1


class KpiTargetInline(PlanYearInline):
    model = KpiTarget
    fields = ["fiscal_year", "value", "text", "note"]


@admin.register(KpiTarget)
class KpiTargetAdmin(PlanYearAdmin):
    list_display = ["measure", "fiscal_year", "value", "text", "note"]
    list_filter = ["measure__plan", "measure__initiative__policy", "fiscal_year"]


@admin.register(Kgi)
class KgiAdmin(HistoryAdmin):
    list_display = ["measure", "text", "target", "unit", "direction", "is_cumulative"]
    list_filter = ["measure__plan", "direction", "is_cumulative"]
    search_fields = ["text", "measure__name", "measure__code"]
    list_select_related = ["measure"]
    autocomplete_fields = ["measure"]


@admin.register(GradeThreshold)
class GradeThresholdAdmin(PortalAdmin):
    """The plan's grading scheme (評価の区分); whether it grades by 達成度 or judgement is the plan's 評価の決め方."""

    list_display = ["plan", "grade", "label", "min_rate", "colour", "needs_attention", "position"]
    list_filter = ["plan"]


@admin.register(EntryDeadline)
class EntryDeadlineAdmin(PortalAdmin):
    """入力期限 per plan-year, set by the DX推進部門 (kpi.reminders; the dashboard shows the days left)."""

    list_display = ["plan", "fiscal_year", "period", "due_on", "remind_from"]
    list_filter = ["plan"]


@admin.register(ReminderSent)
class ReminderSentAdmin(ListOnly, PortalAdmin):
    """Who was reminded on which day (written by manage.py send_reminders only)."""

    list_display = ["user", "sent_on", "measures"]
    list_filter = ["sent_on"]
    list_select_related = ["user"]


@admin.register(ExternalReview)
class ExternalReviewAdmin(ListOnly, PortalAdmin):
    """外部評価 (recorded on the 外部評価 page of a plan's year)."""

    list_display = ["plan", "fiscal_year", "period", "reviewer", "measure", "is_public"]
    list_filter = ["plan", "fiscal_year"]
    list_select_related = ["plan", "measure"]


@admin.register(Publication)
class PublicationAdmin(ListOnly, PortalAdmin):
    """Published years (written on the publish page only, kpi.publishing)."""

    list_display = ["plan", "fiscal_year", "published_on", "licence"]
    list_filter = ["plan"]
    list_select_related = ["plan"]


class BarStatusInline(admin.TabularInline):
    model = BarStatus
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MeasureYear)
class MeasureYearAdmin(ReadOnlyAdmin):
    """Entry, approval and reopening go through the portal's pages (kpi.workflow)."""

    list_display = ["measure", "fiscal_year", "status", "kpi_actual", "actual_cost", "is_sample"]
    list_filter = ["measure__plan", "fiscal_year", "status", "is_sample", "measure__department"]
    search_fields = ["measure__name", "measure__code"]
    list_select_related = ["measure"]
    inlines = [BarStatusInline]
