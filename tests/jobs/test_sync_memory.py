"""A sweep over 100,000 jobs stays within its memory bound: the sweep runs in a child process
(`manage.py sync_bedrock`, as a worker would run it) against the local Bedrock over real HTTP,
and the child's peak resident set (getrusage's ru_maxrss, i.e. VmHWM) is read when it exits.
Slow (seeding and two sweeps of 100k jobs): marked `slow`, which `make test` still runs."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from jobs.models import EvaluationJob, SyncRun
from tests.worker import ROOT, _child_env

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

JOBS = 100_000
# issue 12's target for a worker sweeping 100k jobs.
PEAK_RSS_MIB = 200


def sweep_in_a_child(env: dict[str, str]) -> tuple[float, str]:
    """Run one evaluation-jobs sweep in a fresh process: (its peak RSS in MiB, its output)."""
    argv = [sys.executable, "manage.py", "sync_bedrock", "--kind", "evaluation_jobs"]
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, output
    return usage.ru_maxrss / 1024, output  # Linux reports kilobytes


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
