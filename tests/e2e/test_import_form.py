"""The import form in a browser (issue 13 #2): a field is checked when the person leaves it,
as on the evaluation form, and after a Review the summary at the top follows the fields."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_evaluation_submit import settled

pytestmark = pytest.mark.django_db(transaction=True)


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
    page.click("button[value=review]")
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Imported model name")
    expect(summary).to_contain_text("Import job name")
    # Fixing a field takes it out of the summary without another Review.
    page.fill("#id_imported_model_name", "two-spaces")
    page.keyboard.press("Tab")
    settled(page)
    expect(page.locator("#id_imported_model_name_error li")).to_have_count(0)
    expect(summary).not_to_contain_text("Imported model name")
    expect(summary).to_contain_text("Import job name")
