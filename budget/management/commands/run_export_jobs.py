"""Build the queued report downloads (budget.exports) and remove jobs older than a day.

A job is built in a thread of the server that took the request; one the server did not finish (a restart,
a deploy) stays queued, or running, until this command. Run it from cron or a systemd timer, e.g. every
minute with --once, or as a service without it.
"""

import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from budget import exports
from budget.views import REPORTS


class Command(BaseCommand):
    help = "バックグラウンドで作成する帳票（待機中）を作成し、1日より前の依頼を削除します。"

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="待機中の依頼を1回処理して終了します。")
        parser.add_argument("--interval", type=float, default=5.0, help="繰り返すときの間隔（秒）。")

    def handle(self, *args, once=False, interval=5.0, **options):
        while True:
            removed = exports.remove_old()  # first: a day-old job is not built any more
            stalled = exports.fail_stalled()
            built = exports.run_queued(REPORTS)
            if built or removed or stalled or options["verbosity"] > 1:
                at = f"{timezone.localtime():%Y-%m-%d %H:%M}"
                self.stdout.write(f"作成 {built} 件、中断として失敗 {stalled} 件、削除 {removed} 件（{at}）")
            if once:
                return
            time.sleep(interval)
