"""Time the evaluation form on hostile input (issue 13 #11, #12): a formset count of a
trillion, a 5,000-digit row index, JSON nested 100,000 deep. Each used to loop over every
row it was told of, or recurse until Python gave up; now each is bounded by the formsets'
absolute_max or the JSON depth limit. Form layer only (no database: no name lookups).

    python bench/form_bounds.py [--runs 20]

Prints the median and worst time of each case in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dashboard.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    import django

    django.setup()
    from jobs.forms import FORMS, formset_data
    from tests.jobs.forms.test_field_errors import base

    form_class = FORMS["programmatic"]
    valid = base("programmatic", None)

    def review(data: dict) -> None:
        form_class(formset_data.as_querydict(data)).check_all()

    def trillion_rows() -> None:
        data = formset_data.as_querydict(valid | {"tags-TOTAL_FORMS": "1000000000000"})
        formset_data.drop_deleted_rows(form_class, data)
        formset_data.add_row(form_class, data, "tags")
        form_class(data).check_all()

    def huge_index() -> None:
        verb, prefix, row = formset_data.parse_action(form_class, "remove:tags:" + "9" * 5000)
        assert row is None

    def deep_json() -> None:
        review(valid | {"models-0-inference_params": "[" * 100_000})

    cases = {
        "valid form, review": lambda: review(valid),
        "tags-TOTAL_FORMS=10^12, drop/add/review": trillion_rows,
        "remove:tags:<5,000 digits>": huge_index,
        "JSON nested 100,000 deep, review": deep_json,
    }
    print(f"{'case':44} {'median ms':>10} {'max ms':>8}")
    for name, run in cases.items():
        times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            run()
            times.append((time.perf_counter() - started) * 1000)
        print(f"{name:44} {statistics.median(times):10.1f} {max(times):8.1f}")


if __name__ == "__main__":
    main()
