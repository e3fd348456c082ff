"""`manage.py bedrock_local`: run the local Bedrock in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Serve a local Amazon Bedrock (evaluation jobs, model import jobs, imported models) "
        "that boto3 and the AWS CLI reach through --endpoint-url."
    )
    # It uses nothing of the web app (models, URLs, templates): a broken check elsewhere must
    # not keep the backend of `make run` and the tests from starting.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=4599, help="0 picks a free port")
        parser.add_argument("--region", default="us-east-1")
        parser.add_argument("--account-id", default="123456789012")
        parser.add_argument(
            "--regions",
            default="",
            help="more regions to serve, comma-separated (a request reaches the region of its "
            "SigV4 credential scope; any other region, and unsigned requests, the --region)",
        )
        parser.add_argument(
            "--accounts",
            default="",
            help="more accounts to serve: ACCESS_KEY_ID=ACCOUNT,... (a request signed with "
            "that key reaches that account; an AKIA/ASIA key of a served account, such as the "
            "local STS hands out for a role in it, reaches its account; any other key the "
            "--account-id)",
        )
        parser.add_argument(
            "--seed", type=int, default=0, help="evaluation jobs to seed in each account × region"
        )
        parser.add_argument("--seed-random", type=int, default=0, help="random seed of seeding")
        parser.add_argument(
            "--time-scale",
            type=float,
            default=1.0,
            help="multiplies nominal job durations (0.01 runs jobs 100x faster)",
        )
        parser.add_argument(
            "--throttle-rps",
            type=float,
            default=None,
            help="per-operation request rate above which calls get ThrottlingException",
        )
        parser.add_argument(
            "--throttle-rate", type=float, default=0.0, help="share of calls throttled (0..1)"
        )
        parser.add_argument(
            "--error-rate", type=float, default=0.0, help="share of calls answered 500 (0..1)"
        )
        parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every call")
        parser.add_argument("--control", action="store_true", help="serve the /_local/ control API")
        parser.add_argument(
            "--s3-endpoint-url",
            default=None,
            help="write each completed evaluation job's outputs into this S3 (e.g. the local S3 "
            "of `manage.py s3_local`); without it nothing is written",
        )
        parser.add_argument(
            "--output-prompts",
            type=int,
            default=None,
            help="most prompts per dataset in written outputs (each dataset gets 50 up to this; "
            "default 200, at most 1000)",
        )
        # One flag per service quota, AWS's default unless given (e.g. --quota-imported-models
        # 50 for an account that asked for more imported models).
        from jobs.bedrock.local.store import QUOTA_DEFAULTS, QUOTA_NAMES

        for name, default in QUOTA_DEFAULTS.items():
            parser.add_argument(
                f"--quota-{name.replace('_', '-')}",
                dest=f"quota_{name}",
                type=int,
                default=None,
                help=f"{QUOTA_NAMES[name]} (AWS's default: {default})",
            )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here, not at module level: the local Bedrock is not part of the product.
        from jobs.bedrock.local.server import LocalBedrock, parse_accounts
        from jobs.bedrock.local.store import QUOTA_DEFAULTS

        try:
            accounts = parse_accounts(options["accounts"])
        except ValueError as exc:
            raise CommandError(f"--accounts: {exc}") from exc
        regions = [r.strip() for r in options["regions"].split(",") if r.strip()]

        if options["verbosity"] >= 2:
            logging.basicConfig(level=logging.DEBUG)
        server = LocalBedrock(
            region=options["region"],
            account_id=options["account_id"],
            time_scale=options["time_scale"],
            throttle_rps=options["throttle_rps"],
            throttle_rate=options["throttle_rate"],
            error_rate=options["error_rate"],
            latency_ms=options["latency_ms"],
            control=options["control"],
            random_seed=options["seed_random"],
            s3_endpoint_url=options["s3_endpoint_url"],
            output_prompts=options["output_prompts"],
            regions=regions,
            accounts=accounts,
            quotas={
                name: options[f"quota_{name}"]
                for name in QUOTA_DEFAULTS
                if options[f"quota_{name}"] is not None
            },
        )
        stopping = threading.Event()

        def on_signal(signum: int, frame: object) -> None:
            stopping.set()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        # Seeded before it listens: whoever connects first (runstack waiting for the outputs
        # of the seed) sees every seeded job.
        # Each account × region gets its own jobs (the default keeps --seed-random's).
        seeded = [
            (t, server.seed(options["seed"], account=t.account_id, region=t.region))
            for t in server.tenancies()
        ]
        counts = seeded[0][1]
        server.start(host=options["host"], port=options["port"])
        try:
            self.stdout.write(f"Local Bedrock listening on {server.url}")
            if options["seed"]:
                self.stdout.write(
                    f"Seeded {counts['evaluation_jobs']} evaluation jobs, "
                    f"{counts['model_import_jobs']} model import jobs and "
                    f"{counts['imported_models']} imported models "
                    f"(random seed {options['seed_random']})"
                    + (f" in each of {len(seeded)} accounts × regions." if len(seeded) > 1 else ".")
                )
            if len(seeded) > 1:
                served = ", ".join(f"{t.account_id} {t.region}" for t, _ in seeded)
                self.stdout.write(f"Serving accounts × regions: {served}.")
            faults = ", ".join(f"{k}={v}" for k, v in server.get_faults().items())
            quotas = ", ".join(f"{k}={v}" for k, v in server.store.quotas.items())
            self.stdout.write(f"Quotas: {quotas}.")
            control = f"on at {server.url}/_local/" if server.control else "off"
            self.stdout.write(f"Faults: {faults}; control API {control}.")
            if server.outputs is not None:
                self.stdout.write(
                    f"Completed evaluation jobs write outputs to {server.outputs.endpoint_url}"
                )
            self.stdout.flush()
            while not stopping.wait(0.5):
                pass
        finally:
            server.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self.stdout.write("Local Bedrock stopped.")
