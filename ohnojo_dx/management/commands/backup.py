from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ohnojo_dx.backup import BackupError, backup


class Command(BaseCommand):
    help = (
        "データベース全体のバックアップを作ります（サーバーを止める必要はありません）。"
        "SQLite はオンラインバックアップ、PostgreSQL は pg_dump の独自形式（-Fc）です。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="書き出すファイル")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, path, database, **options):
        try:
            backup(connections[database], path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"バックアップを {path} に書き出しました。")
