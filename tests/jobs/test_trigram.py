"""Name and model search on PostgreSQL go through trigram indexes (migration 0008); on SQLite
the migration changes nothing and the search stays a scan."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from django.db import connection
from django.db.models import Q

from jobs.models import EvaluationJob, ImportedModel, ModelImportJob
from tests.worker import ROOT

TRIGRAM_INDEXES = {
    "evaljob_name_trgm",
    "evaljob_models_trgm",
    "importjob_name_trgm",
    "model_name_trgm",
}

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes exist on PostgreSQL only"
)


@on_postgres
@pytest.mark.django_db
def test_the_migration_creates_the_trigram_indexes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE indexname LIKE '%%trgm'")
        found = dict(cursor.fetchall())
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone()
    assert set(found) == TRIGRAM_INDEXES
    assert all("gin" in d and "gin_trgm_ops" in d and "upper" in d for d in found.values())


@on_postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "lookup", "index"),
    [
        (EvaluationJob, Q(name__icontains="nightly-eval"), "evaljob_name_trgm"),
        (EvaluationJob, Q(model_identifiers__icontains="nova-pro"), "evaljob_models_trgm"),
        (ModelImportJob, Q(name__icontains="llama-import"), "importjob_name_trgm"),
        (ImportedModel, Q(name__icontains="my-model"), "model_name_trgm"),
    ],
)
def test_contains_filters_can_use_their_index(model, lookup, index):
    """The query Django writes for icontains (UPPER(col::text) LIKE UPPER(%s)) matches the
    index's expression: with sequential scans priced out, the planner picks the index."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = model.objects.filter(lookup).explain()
    assert index in plan, plan


def test_on_sqlite_the_migration_creates_nothing(tmp_path):
    db = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))}
    env |= {"DATABASE_URL": f"sqlite:///{db}", "DASHBOARD_VAR_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    with sqlite3.connect(db) as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        applied = {
            row[0] for row in conn.execute("SELECT name FROM django_migrations WHERE app='jobs'")
        }
    assert "0008_trigram" in applied
    assert "jobs_evaluationjob" in names
    assert not names & TRIGRAM_INDEXES
