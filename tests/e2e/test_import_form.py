"""The import form in a browser (issue 13 #1, #2, #10): a field is checked when the person
leaves it, as on the evaluation form, in words; after a Review the summary at the top follows
the fields; the review page says the request in words."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.screens import shot
from tests.e2e.test_evaluation_submit import settled

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = {"laptop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


def shots(page, name: str) -> None:
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        shot(page, f"{name}-{size}")
    page.set_viewport_size(SIZES["laptop"])


def test_the_import_form_checks_a_field_on_leaving_it_and_the_summary_follows(
    page, live_server, operator, login
):
    login(page, operator, "pw-otto-operator")
    page.goto(f"{live_server.url}/import-jobs/new/")
    errors = page.locator("#id_imported_model_name_error")

    page.focus("#id_imported_model_name")
    page.keyboard.type("two  spaces")
    page.keyboard.press("Tab")  # leave the field: no Review clicked
    expect(errors).to_contain_text("single _ or -")
    expect(page.locator("#error-summary")).to_have_count(0)

    # Review: every error at once, summarised at the top.
    page.wait_for_load_state("networkidle")  # the last blur check has answered
    page.click("button[value=review]")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Imported model name")
    expect(summary).to_contain_text("Import job name")
    page.fill("#id_model_data_uri", "S3://Models/x")
    page.keyboard.press("Tab")
    expect(page.locator("#id_model_data_uri_error")).to_contain_text("s3://my-bucket/models/")
    shots(page, "import-form-live")

    # Fixing a field takes it out of the summary without another Review.
    page.fill("#id_imported_model_name", "two-spaces")
    page.keyboard.press("Tab")
    settled(page)
    expect(errors.locator("li")).to_have_count(0)
    expect(summary).not_to_contain_text("Imported model name")
    expect(summary).to_contain_text("Import job name")

    # Filled in: the review says the request in words above its JSON.
    page.fill("#id_name", "import-e2e-words")
    page.fill("#id_role_arn", "arn:aws:iam::111122223333:role/BedrockModelImportRole")
    page.fill("#id_model_data_uri", "s3://my-models/llama3-8b/")
    page.wait_for_load_state("networkidle")  # the last blur check has answered
    page.click("button[value=review]")
    expect(page.locator("#review-summary")).to_contain_text("Import of the model files in s3://")
    shots(page, "import-review")
