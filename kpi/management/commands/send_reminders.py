"""Remind the 担当課 of what is left to enter (kpi.reminders): run daily from cron, e.g.

    30 8 * * 1-5  cd /srv/portal && .venv/bin/python manage.py send_reminders

Each user gets at most one mail a day, however often it runs."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from kpi.reminders import send_reminders


class Command(BaseCommand):
    help = "担当課に、入力期限までに入力・提出が済んでいない個別施策を知らせます（1日に1回まで）。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="この日として送る（YYYY-MM-DD、試験用。既定は今日）")

    def handle(self, *args, date=None, **options):
        try:
            today = datetime.date.fromisoformat(date) if date else None
        except ValueError as error:
            raise CommandError(f"日付は YYYY-MM-DD で指定してください：{date}") from error
        sent, no_address = send_reminders(today)
        self.stdout.write(f"お知らせを {len(sent)} 人に送りました。")
        for user in no_address:
            self.stderr.write(f"メールアドレスがないため送れませんでした：{user.username}")
