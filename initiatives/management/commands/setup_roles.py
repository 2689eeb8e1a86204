from django.core.management.base import BaseCommand

from initiatives.roles import setup_roles


class Command(BaseCommand):
    help = "役割（DX推進部門・担当課・所属長）のグループと権限を作成します。何度実行しても同じ結果です。"

    def handle(self, **options):
        setup_roles()
        self.stdout.write(self.style.SUCCESS("役割のグループを設定しました。"))
