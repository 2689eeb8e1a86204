import json

from django.core.management.base import BaseCommand, CommandError

from initiatives.models import Plan
from initiatives.services import PlanImportError, import_plan


class Command(BaseCommand):
    help = "計画のJSONファイル（fixtures/README.md の形式）を読み込みます。既にある計画は読み飛ばします。"

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        try:
            with open(path, encoding="utf-8") as f:
                data = json.load(f)
            code = data["plan"]["code"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CommandError(f"計画ファイルを読めませんでした: {error!r}") from error
        if Plan.objects.filter(code=code).exists():
            # Staff may have corrected the plan in the admin since; never overwrite that.
            self.stdout.write(f"計画 {code} は読み込み済みのため、読み飛ばしました。")
            return
        try:
            plan = import_plan(data)
        except PlanImportError as error:
            raise CommandError(f"読み込めませんでした（何も保存していません）:\n{error}") from error
        except (KeyError, ValueError, TypeError) as error:
            # A missing key or a malformed year: the file's shape is off (see fixtures/README.md).
            raise CommandError(f"計画ファイルの形式が正しくありません（何も保存していません）: {error!r}") from error
        self.stdout.write(
            self.style.SUCCESS(
                f"計画 {plan.code}「{plan.title}」を読み込みました（個別施策 {plan.measures.count()} 件）。"
            )
        )
