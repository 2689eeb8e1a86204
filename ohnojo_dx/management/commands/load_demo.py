from django.core.management.base import BaseCommand, CommandError

from initiatives.models import Plan
from ohnojo_dx.demo import ACCOUNTS, DEMO_PASSWORD, load_demo


class Command(BaseCommand):
    help = "デモ用（サンプル）の所管課とアカウントを作成します。本番環境では実行しないでください。"

    def add_arguments(self, parser):
        parser.add_argument("--plan", default="ohnojo-dx-r4", help="サンプルの担当課を割り当てる計画コード")

    def handle(self, plan, **options):
        if not Plan.objects.filter(code=plan).exists():
            raise CommandError(f"計画 {plan} がありません。先に import_plan を実行してください。")
        load_demo(plan)
        self.stdout.write(self.style.SUCCESS("サンプルデータを読み込みました。デモ用アカウント:"))
        for username, _display, role, _department in ACCOUNTS:
            self.stdout.write(f"  {username} / {DEMO_PASSWORD}  （{role.label}）")
