"""入力のお知らせ: each 担当課 user is told which of their measures are not entered (未入力), returned (差戻し) or
entered but not submitted (未提出) for a plan-year with an 入力期限 (kpi.models.EntryDeadline), at most once a day.
A 上期 deadline (a plan reviewed every half year) is about the measures' 上期 reports (kpi.models.InterimReview).

``manage.py send_reminders`` runs this from cron. A deadline reminds from ``remind_from`` days before it until
``remind_after`` days after it; a measure is done once its record is submitted or approved. Mail goes through
Django's email settings (the console by default; SMTP from the environment, ohnojo_dx/settings.py).
"""

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import dateformat, timezone

from initiatives.models import Measure
from initiatives.roles import Role

from .attention import record_state
from .models import EntryDeadline, InterimReview, MeasureYear, ReminderSent

NOT_ENTERED, RETURNED, NOT_SUBMITTED = "未入力", "差戻し", "未提出"
logger = logging.getLogger(__name__)


@dataclass
class Item:
    deadline: EntryDeadline
    measure: Measure
    state: str  # NOT_ENTERED, RETURNED or NOT_SUBMITTED

    @property
    def url(self):
        page = "kpi:interim_edit" if self.deadline.period else "kpi:measure_year_edit"
        path = reverse(page, args=[self.deadline.plan.code, self.measure.code, self.deadline.fiscal_year])
        return f"{settings.PORTAL_BASE_URL.rstrip('/')}{path}"


# What is left to do, by the record's state (kpi.attention.record_state); approved and submitted: nothing.
LEFT_TO_DO = {"none": NOT_ENTERED, "returned": RETURNED, "draft": NOT_SUBMITTED}


def item_state(record):
    """What is left to do for one measure-year (None if nothing): the record may be None (nothing yet)."""
    return LEFT_TO_DO.get(record_state(record)[0])


def interim_state(report):
    """What is left to do of one measure's 上期 report (None once submitted or confirmed)."""
    if report is None:
        return NOT_ENTERED
    return NOT_SUBMITTED if report.status == InterimReview.Status.DRAFT else None


def active_deadlines(today):
    """The deadlines that remind today: from ``remind_from`` days before them to ``remind_after`` days after."""
    deadlines = EntryDeadline.objects.select_related("plan").order_by("due_on", "plan__code")
    return [d for d in deadlines if d.reminds_on(today)]


def items_by_department(deadline):
    """{department id: [Item]} of one deadline's plan-year (or its 上期): two queries."""
    rows, state_of = (InterimReview, interim_state) if deadline.period else (MeasureYear, item_state)
    records = {
        r.measure_id: r for r in rows.objects.filter(measure__plan=deadline.plan, fiscal_year=deadline.fiscal_year)
    }
    out = defaultdict(list)
    for measure in Measure.objects.filter(plan=deadline.plan, department__isnull=False):
        state = state_of(records.get(measure.pk))
        if state is not None:
            out[measure.department_id].append(Item(deadline, measure, state))
    return out


def due_reminders(today):
    """{user: [Item]}: each 担当課 user with something left to do today, not yet reminded today."""
    found = [items_by_department(d) for d in active_deadlines(today)]
    if not any(found):
        return {}
    reminded = ReminderSent.objects.filter(sent_on=today).values("user_id")
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__portal_role__role=Role.DEPARTMENT)
        .exclude(pk__in=reminded)
        .prefetch_related("departments")
        .distinct()
        .order_by("username")
    )
    out = {}
    for user in users:
        items = [
            item for by_department in found for d in user.departments.all() for item in by_department.get(d.pk, [])
        ]
        if items:
            out[user] = items
    return out


def message(user, items, today):
    """(subject, body) of one user's reminder, in Japanese."""
    name = user.get_full_name() or user.username
    lines = [
        f"{name} 様",
        "",
        "計画進捗ポータルからのお知らせです。次の個別施策の実績・自己評価の入力と提出をお願いします。",
        "",
    ]
    by_deadline = defaultdict(list)
    for item in items:
        by_deadline[item.deadline].append(item)
    for deadline, group in by_deadline.items():
        what = "の進捗" if deadline.period else ""
        lines.append(
            f"■ {deadline.plan.title} {deadline.period_label}{what}"
            f"（入力期限 {dateformat.format(deadline.due_on, 'Y年n月j日')}、{deadline.when(today)}）"
        )
        lines += [f"・{item.measure.code} {item.measure.name}：{item.state}\n  {item.url}" for item in group]
        lines.append("")
    lines.append("このメールは送信専用です。1日に1回まで送られます。")
    years = sorted({i.deadline.period_label for i in items})
    subject = f"【計画進捗ポータル】実績の入力のお願い（{'・'.join(years)}、{len(items)}件）"
    return subject, "\n".join(lines)


@dataclass
class Outcome:
    """Who was reminded, who has no address, and whose mail failed (user, error), of one run."""

    sent: list = field(default_factory=list)
    no_address: list = field(default_factory=list)
    failed: list = field(default_factory=list)


def send_reminders(today=None, dry_run=False, out=None):
    """Send today's reminders (with ``dry_run``, write each to ``out`` instead, and mark no one).

    A user is marked reminded for the day before the mail goes out, so two runs never both send; a mail
    that fails is unmarked, so the next run tries again, and the others are still sent."""
    today = today or timezone.localdate()
    outcome = Outcome()
    for user, items in due_reminders(today).items():
        if not user.email:
            outcome.no_address.append(user)
            continue
        subject, body = message(user, items, today)
        if dry_run:
            out.write(f"--- {user.email}\n{subject}\n\n{body}\n")
            outcome.sent.append(user)
            continue
        try:
            with transaction.atomic():
                mark = ReminderSent.objects.create(user=user, sent_on=today, measures=len(items))
        except IntegrityError:  # another run reminded this user a moment ago
            continue
        try:
            send_mail(subject, body, None, [user.email])
        except Exception as error:  # a refused address or a server down: the others are still sent
            logger.exception("reminder to %s failed", user.username)
            mark.delete()
            outcome.failed.append((user, error))
        else:
            outcome.sent.append(user)
    return outcome


def deadline_of(plan, year, today=None):
    """The plan-year's 入力期限 that matters now, or None (one query): of a year with a 上期 deadline too, the
    first not yet passed, else the last."""
    today = today or timezone.localdate()
    deadlines = sorted(EntryDeadline.objects.filter(plan=plan, fiscal_year=year), key=lambda d: d.due_on)
    return next((d for d in deadlines if d.due_on >= today), deadlines[-1] if deadlines else None)
