"""`python manage.py sync_bedrock`: sweeps in the foreground, each run's record printed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jobs import sync
from jobs.connections import UnknownConnection, configured_connections, connection_named


class Command(BaseCommand):
    help = (
        "Sweep Bedrock into the mirror now (every kind of every connection, or those given with "
        "--kind and --connection) and print each run's record: calls made, rows "
        "seen/added/changed/vanished, duration, error. A connection that fails does not stop "
        "the others; the command exits non-zero if any failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--kind",
            action="append",
            choices=list(sync.KINDS),
            help="Sweep only this kind (repeatable). Default: every kind.",
        )
        parser.add_argument(
            "--connection",
            action="append",
            help="Sweep only this connection, by name (repeatable). Default: every connection.",
        )
        parser.add_argument(
            "--describe-missing",
            action="store_true",
            help="Afterwards, fill missing descriptions at the configured rate (time-bounded).",
        )

    def handle(
        self,
        *args,
        kind: list[str] | None,
        connection: list[str] | None,
        describe_missing: bool,
        **options,
    ) -> None:
        try:
            connections = [connection_named(name) for name in connection or ()]
        except UnknownConnection as exc:
            raise CommandError(str(exc)) from None
        failed = []
        for each in connections or configured_connections():
            for name in kind or list(sync.KINDS):
                try:
                    run = sync.sweep(kind=name, connection=each)
                except sync.SyncAlreadyRunning as exc:
                    self.stderr.write(f"{name}: skipped, {exc}")
                    failed.append(f"{name} ({each.name})")
                    continue
                line = sync.describe_run(run)
                self.stdout.write(self.style.ERROR(line) if run.error else line)
                if run.error:
                    failed.append(f"{name} ({each.name})")
                elif describe_missing:
                    described = sync.describe_missing(kind=name, connection=each)
                    self.stdout.write(f"{name}: described {described} ({each.name})")
        if failed:
            raise CommandError(f"sweep failed or skipped: {', '.join(failed)}")
