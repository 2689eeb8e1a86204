"""Remind the 担当課 of what is left to enter (kpi.reminders): run daily from cron, e.g.

    30 8 * * 1-5  cd /srv/portal && .venv/bin/python manage.py send_reminders

Each user gets at most one mail a day, however often it runs. ``--dry-run`` prints the mails instead."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kpi.reminders import send_reminders

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "担当課に、入力期限までに入力・提出が済んでいない個別施策を知らせます（1日に1回まで）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="この日として送る（YYYY-MM-DD。既定は今日）")
        parser.add_argument("--dry-run", action="store_true", help="送らずに、送るメールを表示する（記録も残さない）")

    def handle(self, *args, date=None, dry_run=False, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else None
        except ValueError as error:
            raise CommandError(f"日付は YYYY-MM-DD で指定してください：{date}") from error
        if settings.EMAIL_HOST and settings.PORTAL_BASE_URL == DEFAULT_BASE_URL:
            self.stderr.write("PORTAL_BASE_URL が既定のままです。メールのリンクは職員の端末から開けません。")
        outcome = send_reminders(today, dry_run=dry_run, out=self.stdout)
        verb = "送ります（試行、送っていません）" if dry_run else "送りました"
        self.stdout.write(f"お知らせを {len(outcome.sent)} 人に{verb}。")
        for user in outcome.no_address:
            self.stderr.write(f"メールアドレスがないため送れませんでした：{user.username}")
        if outcome.failed:
            names = "、".join(f"{user.username}（{error}）" for user, error in outcome.failed)
            raise CommandError(f"送れなかったお知らせがあります（次の実行で送り直します）：{names}")
