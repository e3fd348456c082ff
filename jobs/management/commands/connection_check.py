"""`python manage.py connection_check [NAME ...]`: who STS says each connection is, recorded as
the Connections page's "Check now" records it, and printed."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from jobs.connections import UnknownConnection, configured_connections
from jobs.connections.services import connection_check


class Command(BaseCommand):
    help = (
        "Check connections (every one, or those named) with STS GetCallerIdentity: print each "
        "one's account and caller ARN, or its error. Exits 1 if any check failed."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("names", nargs="*", metavar="NAME", help="Default: every connection.")

    def handle(self, *args, names: list[str], **options) -> None:
        failed = []
        for name in names or [c.name for c in configured_connections()]:
            try:
                status = connection_check(name=name)
            except UnknownConnection as exc:
                raise CommandError(str(exc)) from None
            if status.error_code:
                failed.append(name)
                line = f"{name}: {status.error_code}: {status.error_message}"
                self.stdout.write(self.style.ERROR(line))
            else:
                self.stdout.write(f"{name}: account {status.account} as {status.caller_arn}")
        if failed:
            raise CommandError(f"failed: {', '.join(failed)}", returncode=1)
