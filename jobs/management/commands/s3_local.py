"""`manage.py s3_local`: a local S3 (moto's server) in the foreground until Ctrl-C or SIGTERM.

It is to S3 what the local Bedrock is to Bedrock: the embedded default of `make run` and the
backend of the tests, reached by boto3 through S3_ENDPOINT_URL. It keeps everything in memory.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve a local S3 (moto's server, in memory) that boto3 reaches through endpoint_url."
    # Uses nothing of the web app: a broken check elsewhere must not keep it from starting.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=4598, help="0 picks a free port")

    def handle(self, *args: Any, **options: Any) -> None:
        from jobs.bedrock.local.s3 import LocalS3

        if options["verbosity"] < 2:
            # One log line per request drowns `make run`'s console (the local Bedrock writes
            # hundreds of objects at start); -v 2 shows them.
            logging.getLogger("werkzeug").setLevel(logging.WARNING)
        stopping = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        server = LocalS3().start(host=options["host"], port=options["port"])
        try:
            self.stdout.write(f"Local S3 listening on {server.url}")
            self.stdout.flush()
            while not stopping.wait(0.5):
                pass
        finally:
            server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stdout.write("Local S3 stopped.")
