"""`python manage.py results_fetch [--job ARN] [--force]`: read evaluation results in the
foreground (what the worker's task does) and print each job's aggregates as a table."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jobs.models import EvaluationJob, EvaluationResultSet
from jobs.results import ingest


def _number(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


class Command(BaseCommand):
    help = (
        "Read completed evaluation jobs' S3 output into the mirror now and print the "
        "aggregates: the job given with --job (repeatable), else every Completed job without "
        "ready results."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--job", action="append", metavar="ARN", help="The job's ARN.")
        parser.add_argument(
            "--force", action="store_true", help="Read again even if the files did not change."
        )

    def handle(self, *args, job: list[str] | None, force: bool, **options) -> None:
        if job:
            jobs = list(EvaluationJob.objects.filter(arn__in=job))
            unknown = set(job) - {j.arn for j in jobs}
            if unknown:
                raise CommandError(f"not in the mirror (run sync_bedrock?): {', '.join(unknown)}")
        else:
            jobs = list(
                EvaluationJob.objects.filter(status="Completed")
                .exclude(results__state=EvaluationResultSet.State.READY)
                .order_by("-created_at")
            )
            if not jobs:
                self.stdout.write("No completed job without results.")
        failed = []
        for item in jobs:
            result_set = ingest.evaluation_results_fetch(job_id=item.pk, force=force)
            self.stdout.write(self.style.MIGRATE_HEADING(f"{item.name} ({item.arn})"))
            if result_set is None:
                self.stdout.write(f"  skipped: the job is {item.status}, not Completed")
                continue
            self._print(result_set)
            if result_set.state != EvaluationResultSet.State.READY:
                failed.append(item.name)
        if failed:
            raise CommandError(f"results not read: {', '.join(failed)}")

    def _print(self, result_set: EvaluationResultSet) -> None:
        line = (
            f"  {result_set.state}: {result_set.files} files, {result_set.lines} lines "
            f"({result_set.bad_lines} could not be read), {result_set.records} records"
            + (" (truncated)" if result_set.records_truncated else "")
        )
        self.stdout.write(line)
        if result_set.error_message:
            style = self.style.ERROR if result_set.state == "failed" else self.style.WARNING
            self.stdout.write(style(f"  {result_set.error_message}"))
        rows = [("dataset", "model", "metric", "prompts", "scored", "mean", "stddev", "method")]
        for agg in result_set.aggregates.all():
            rows.append(
                (
                    agg.dataset,
                    agg.model,
                    agg.metric,
                    str(agg.prompts),
                    str(agg.scored),
                    _number(agg.mean),
                    _number(agg.stddev),
                    agg.rating_method,
                )
            )
        if len(rows) == 1:
            return
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        numeric = {3, 4, 5, 6}
        for row in rows:
            cells = [
                cell.rjust(w) if i in numeric else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            self.stdout.write("  " + "  ".join(cells).rstrip())
