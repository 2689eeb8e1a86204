from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ohnojo_dx.backup import BackupError, restore


class Command(BaseCommand):
    help = (
        "manage.py backup で作ったファイルからデータベース全体を復元します。"
        "復元先にデータがあるときは --force を付けたときだけ上書きします（サーバーは止めてから実行してください）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="manage.py backup で作ったファイル")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)
        parser.add_argument("--force", action="store_true", help="復元先のデータを消して上書きする")

    def handle(self, path, database, force, **options):
        try:
            restore(connections[database], path, force=force)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{path} から復元しました。")
