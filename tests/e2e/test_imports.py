"""Importing a model in a real browser, under the strict CSP (any console error fails the
test): submit an import job through the form and its review, watch it complete, see its model
appear in the models list without reloading, open the model and delete it with a real worker.

Set SCREENSHOT_DIR (somewhere under /tmp) to keep screenshots of the pages.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobs import sync
from jobs.models import ImportedModel, ModelImportJob

pytest_plugins = ["tests.worker"]
pytestmark = pytest.mark.django_db(transaction=True)

ROLE = "arn:aws:iam::123456789012:role/BedrockModelImport"


def test_import_a_model_watch_it_complete_open_it_and_delete_it(
    page, live_server, admin_user, login, shot, local_bedrock, private_redis, celery_node, settings
):
    settings.CELERY_BROKER_URL = private_redis.url
    celery_node("worker")  # runs the deletion; started first, as it takes a moment to boot
    # Seeded imports already done, so ours is the one running; it takes about 6 s.
    local_bedrock.seed(20, random_seed=9)
    for arn, job in local_bedrock.store.import_jobs.items():
        if job.status == "InProgress":
            local_bedrock.force_status(arn, "Completed")
    sync.import_jobs_sync(raise_errors=True)
    sync.imported_models_sync(raise_errors=True)
    local_bedrock.set_faults(time_scale=0.1)

    login(page, admin_user, "pw-ada-admin")
    page.click("nav.nav >> text=Import jobs")
    page.wait_for_url(f"{live_server.url}/import-jobs/")
    page.click("a.button:text('Import a model')")
    page.wait_for_url(f"{live_server.url}/import-jobs/new/")
    expect(page.locator("#import-warning")).to_contain_text("can never be used again")
    expect(page.locator("#import-warning")).to_contain_text("one import at a time")
    page.fill("#id_name", "import-e2e-llama")
    page.fill("#id_imported_model_name", "e2e llama")  # a space: not allowed
    page.fill("#id_role_arn", ROLE)
    page.fill("#id_model_data_uri", "s3://my-models/llama3-8b/")
    page.fill("#id_job_tags", "team=ml")
    page.click("button[value=review]")
    expect(page.locator("#error-summary")).to_contain_text("Imported model name")
    expect(page.locator("#id_imported_model_name_error")).to_contain_text("single _ or -")
    shot(page, "import-form-errors")
    page.fill("#id_imported_model_name", "e2e-llama")
    page.click("button[value=review]")
    expect(page.locator("#request-json")).to_contain_text('"importedModelName": "e2e-llama"')
    shot(page, "import-review")
    page.click("text=Submit job to Bedrock")

    job = ModelImportJob.objects.get(name="import-e2e-llama")
    page.wait_for_url(f"{live_server.url}/import-jobs/{job.resource_id}/")
    status = page.locator("#job-status .badge").first
    expect(status).to_have_attribute("data-status", "InProgress")
    expect(page.locator("text=Updating live")).to_be_visible()
    shot(page, "import-job-running")

    # The models list, opened while the import runs, shows its model when it completes.
    page.click("nav.nav >> text=Imported models")
    page.wait_for_url(f"{live_server.url}/imported-models/")
    expect(page.locator("#job-table")).not_to_contain_text("e2e-llama")
    marker = page.evaluate("window.__same_document = Math.random()")
    row = page.locator("#job-table tbody td.name a:text-is('e2e-llama')")
    expect(row).to_have_count(1, timeout=30_000)
    assert page.evaluate("window.__same_document") == marker  # no reload happened
    shot(page, "imported-models")
    job.refresh_from_db()
    assert job.status == "Completed"

    # Open the model and delete it.
    row.click()
    model = ImportedModel.objects.get(name="e2e-llama")
    page.wait_for_url(f"{live_server.url}/imported-models/{model.resource_id}/")
    expect(page.locator(".facts")).to_contain_text("llama3")
    expect(page.locator(".facts")).to_contain_text("import-e2e-llama")
    shot(page, "imported-model")
    page.click("a.button:text('Delete…')")
    expect(page.locator("h1")).to_have_text("Delete 1 imported model?")
    shot(page, "imported-model-delete")
    page.click("button:text('Delete 1 model')")
    page.wait_for_url(f"{live_server.url}/deletions/*/")
    expect(page.locator("#batch-live .progress-text")).to_contain_text("100%", timeout=30_000)
    expect(page.locator("#batch-live tr[data-outcome='deleted']")).to_contain_text("e2e-llama")
    shot(page, "imported-model-deleted")
    assert local_bedrock.call_counts()["DeleteImportedModel"] == 1

    # Gone from the list, and still gone once the next sweep has run.
    page.click("nav.nav >> text=Imported models")
    expect(page.locator("#job-table")).not_to_contain_text("e2e-llama")
    sync.imported_models_sync(raise_errors=True)
    page.reload()
    expect(page.locator("#job-table tbody tr").first).to_be_visible()
    expect(page.locator("#job-table")).not_to_contain_text("e2e-llama")
    assert not ImportedModel.objects.filter(name="e2e-llama", listed=True).exists()
