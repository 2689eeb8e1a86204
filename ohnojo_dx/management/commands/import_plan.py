from django.core.management.base import BaseCommand, CommandError

from initiatives.models import Plan
from ohnojo_dx.plan_loader import PlanFileError, PlanImportError
from ohnojo_dx.plan_workbook import read_plan_source


class Command(BaseCommand):
    help = (
        "計画のJSONファイル（fixtures/README.md の形式）か計画ブック（.xlsx、形式は中身で判定）を読み込みます。"
        "既にある計画は読み飛ばします。"
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, path, **options):
        try:
            data, load = read_plan_source(path)  # JSON or the plan workbook, told apart by the content
        except PlanFileError as error:
            raise CommandError(str(error)) from error  # one line: what is wrong with the file, and where
        except PlanImportError as error:  # a workbook's cells: each problem with its sheet, row and column
            raise CommandError(_not_loaded(error)) from error
        code = data["plan"]["code"]
        if Plan.objects.filter(code=code).exists():
            # Staff may have corrected the plan in the admin since; never overwrite that.
            self.stdout.write(f"計画 {code} は読み込み済みのため、読み飛ばしました。")
            return
        try:
            plan = load()
        except PlanImportError as error:
            raise CommandError(_not_loaded(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"計画 {plan.code}「{plan.title}」を読み込みました（個別施策 {plan.measures.count()} 件）。"
            )
        )


def _not_loaded(error):
    # One problem stays on the heading's line; several are listed one per line under it.
    separator = "\n" if len(error.problems) > 1 else " "
    return f"読み込めませんでした（何も保存していません）:{separator}{error}"
