"""A sweep over 100,000 jobs stays within its memory bound: the sweep runs in a child process
(what `manage.py sync_bedrock` runs, as a worker would) against the local Bedrock over real
HTTP, and the child reports its peak resident set (VmHWM) when the sweep is done.
Slow (seeding and two sweeps of 100k jobs): marked `slow`, which `make test` still runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jobs.models import EvaluationJob, SyncRun
from tests.worker import ROOT, _child_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

JOBS = 100_000
# issue 12's target for a worker sweeping 100k jobs.
PEAK_RSS_MIB = 200


# The child sweeps as `manage.py sync_bedrock` does, then reports its own peak RSS (VmHWM).
# (Not getrusage's ru_maxrss: on Linux that counts the forked copy of this process, which
# holds the local Bedrock's 100k jobs, from before the exec.)
CHILD = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")
django.setup()
from django.core.management import call_command
call_command("sync_bedrock", "--kind", "evaluation_jobs")
with open("/proc/self/status") as status:
    print(next(line for line in status if line.startswith("VmHWM:")).strip())
"""


def sweep_in_a_child(env: dict[str, str]) -> tuple[float, str]:
    """Run one evaluation-jobs sweep in a fresh process: (its peak RSS in MiB, its output)."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    peak_kib = int(output.split("VmHWM:")[1].split()[0])
    return peak_kib / 1024, output


def test_a_sweep_over_100k_jobs_stays_under_its_memory_bound(local_bedrock, tmp_path):
    local_bedrock.set_faults(time_scale=1e9)
    local_bedrock.seed(count=JOBS)
    env = _child_env(local_bedrock, tmp_path, "memory://", DJANGO_LOG_LEVEL="WARNING")

    first, output = sweep_in_a_child(env)

    assert f"seen {JOBS}, added {JOBS}" in output, output
    assert EvaluationJob.objects.count() == JOBS
    assert first < PEAK_RSS_MIB, f"first sweep peaked at {first:.0f} MiB"

    unchanged, output = sweep_in_a_child(env)

    assert f"seen {JOBS}, added 0, changed 0, vanished 0" in output, output
    assert unchanged < PEAK_RSS_MIB, f"no-change sweep peaked at {unchanged:.0f} MiB"
    assert SyncRun.objects.filter(error="").count() == 2
