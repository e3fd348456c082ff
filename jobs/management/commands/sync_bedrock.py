"""`python manage.py sync_bedrock`: one sweep in the foreground, its record printed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jobs import sync


class Command(BaseCommand):
    help = (
        "Sweep Bedrock into the mirror now (every kind, or those given with --kind) and print "
        "each run's record: calls made, rows seen/added/changed/vanished, duration, error."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--kind",
            action="append",
            choices=list(sync.KINDS),
            help="Sweep only this kind (repeatable). Default: every kind.",
        )
        parser.add_argument(
            "--describe-missing",
            action="store_true",
            help="Afterwards, fill missing descriptions at the configured rate (time-bounded).",
        )

    def handle(self, *args, kind: list[str] | None, describe_missing: bool, **options) -> None:
        failed = []
        for name in kind or list(sync.KINDS):
            try:
                run = sync.sweep(kind=name)
            except sync.SyncAlreadyRunning as exc:
                self.stderr.write(f"{name}: skipped, {exc}")
                failed.append(name)
                continue
            line = sync.describe_run(run)
            self.stdout.write(self.style.ERROR(line) if run.error else line)
            if run.error:
                failed.append(name)
            elif describe_missing:
                described = sync.describe_missing(kind=name)
                self.stdout.write(f"{name}: described {described}")
        if failed:
            raise CommandError(f"sweep failed or skipped: {', '.join(failed)}")
