"""Writes of the PDCA record: saving, submitting, approving, returning, reopening.

Every write goes through _write(), which saves only if the row is still at the
version the user saw: two people editing the same measure-year never silently
overwrite each other. Each change is kept by django-simple-history, with the
reason for workflow steps.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import BarStatus, MeasureYear


class WorkflowError(Exception):
    """A step that cannot be taken now; the message is for the user."""


class Conflict(WorkflowError):
    def __init__(self):
        super().__init__(
            "保存できませんでした。この施策・年度は、あなたが画面を開いた後に他の人が更新しています。"
            "画面を開き直して最新の内容を確認してから、もう一度入力してください。"
        )


class Locked(WorkflowError):
    def __init__(self):
        super().__init__("この年度は承認済みでロックされています。変更するにはDX推進部門が再開してください。")


def _write(record, seen_version, reason):
    """Insert or update `record` only if nobody saved it since `seen_version`."""
    record._change_reason = reason
    if record.pk is None:
        if seen_version != 0:
            raise Conflict()
        record.version = 1
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError as error:  # someone created the same measure-year meanwhile
            raise Conflict() from error
        return record
    claimed = MeasureYear.objects.filter(pk=record.pk, version=seen_version).update(version=seen_version + 1)
    if not claimed:
        raise Conflict()
    record.version = seen_version + 1
    record.save()
    return record


def _save_bar_states(record, states):
    existing = {s.bar_id: s for s in record.bar_statuses.all()}
    for bar, state in states.items():
        current = existing.get(bar.pk)
        if not state:
            if current:
                current.delete()
        elif current is None:
            BarStatus.objects.create(measure_year=record, bar=bar, state=state)
        elif current.state != state:
            current.state = state
            current.save()


@transaction.atomic
def save_entry(form, submit=False):
    """Save a validated MeasureYearForm (and its bar statuses); optionally submit it."""
    record = form.instance
    if record.is_locked:
        raise Locked()
    record.is_sample = False  # a person's entry is real data from now on
    if submit:
        _check_submittable(record)
        record.status = MeasureYear.Status.SUBMITTED
        record.submitted_at = timezone.now()
    elif record.status == MeasureYear.Status.SUBMITTED:
        # A change after submitting must be submitted again: approval never covers unseen figures.
        record.status = MeasureYear.Status.DRAFT
    _write(record, form.cleaned_data["seen_version"], "提出" if submit else "入力")
    _save_bar_states(record, form.bar_states())
    return record


def _check_submittable(record):
    if not record.has_actuals:
        raise WorkflowError("実績（KPI実績値・決算額・実施内容のいずれか）を入力してから提出してください。")


@transaction.atomic
def approve(record, user, seen_version):
    if record.status != MeasureYear.Status.SUBMITTED:
        raise WorkflowError("提出済みの実績だけを承認できます。")
    record.status = MeasureYear.Status.APPROVED
    record.approved_at = timezone.now()
    record.approved_by = user
    record.return_comment = ""
    return _write(record, seen_version, "承認")


@transaction.atomic
def approve_many(records, user, seen_versions):
    """Bulk approval of the records as the approver saw them, or none if any changed meanwhile."""
    for record in records:
        approve(record, user, seen_versions.get(record.pk, -1))
    return len(records)


@transaction.atomic
def return_for_revision(record, user, seen_version, comment):
    if record.status != MeasureYear.Status.SUBMITTED:
        raise WorkflowError("提出済みの実績だけを差し戻せます。")
    record.status = MeasureYear.Status.RETURNED
    record.return_comment = comment
    return _write(record, seen_version, f"差戻し: {comment}")


@transaction.atomic
def reopen(record, user, seen_version, reason):
    """Unlock an approved year: an explicit step, kept in the history with its reason."""
    if not record.is_locked:
        raise WorkflowError("承認済みの年度だけを再開できます。")
    record.status = MeasureYear.Status.DRAFT
    record.approved_at = None
    record.approved_by = None
    return _write(record, seen_version, f"再開: {reason}")


class RowError(WorkflowError):
    """A grid row that could not be saved; the whole grid is rolled back."""

    def __init__(self, form, error):
        self.form, self.error = form, error
        super().__init__(str(error))


@transaction.atomic
def save_grid(forms):
    """Save every changed row of a department grid, or none of them."""
    for form in forms:
        try:
            save_entry(form)
        except WorkflowError as error:
            raise RowError(form, error) from error
