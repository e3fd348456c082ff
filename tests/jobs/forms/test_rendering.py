"""What the forms offer a page: labels, help, and choices narrowed to what is valid."""

from __future__ import annotations

import pytest

from jobs.bedrock import rules
from jobs.forms.evaluation import FORMS, JudgeCustomMetricForm

from . import factories as f
from .factories import bound


@pytest.mark.parametrize("kind", list(FORMS))
def test_every_form_and_formset_renders_and_every_field_has_a_label(kind):
    form = FORMS[kind]()
    assert form.kind == kind
    assert str(form)
    for formset in form.formsets.values():
        assert str(formset)
        assert formset.management_form
        for row in formset.forms:
            assert all(field.label for field in row.fields.values())
    assert all(field.label and field.help_text for field in form.fields.values())


def test_the_builtin_datasets_offered_are_those_of_the_rows_task_type():
    initial = f.programmatic()
    form = FORMS["programmatic"](initial=initial)
    generation, classification = form.formsets["datasets"].forms[:2]
    offered = [v for v, _ in generation.fields["builtin_dataset"].widget.choices if v]
    assert offered == list(rules.BUILTIN_DATASETS["Generation"])
    offered = [v for v, _ in classification.fields["builtin_dataset"].widget.choices if v]
    assert offered == ["Builtin.WomensEcommerceClothingReviews"]


def test_without_a_task_type_every_builtin_dataset_is_offered_grouped_by_task_type():
    row = FORMS["programmatic"]().formsets["datasets"].forms[0]
    groups = dict(row.fields["builtin_dataset"].widget.choices[1:])
    assert [v for v, _ in groups["Question and answer"]] == list(
        rules.BUILTIN_DATASETS["QuestionAndAnswer"]
    )


def test_the_metrics_offered_follow_task_type_kind_and_custom_metrics():
    programmatic = FORMS["programmatic"](initial=f.programmatic()).formsets["datasets"].forms
    assert [v for v, _ in programmatic[1].fields["metrics"].choices] == [
        "Builtin.Accuracy",
        "Builtin.Robustness",
    ]
    judge = bound("judge", f.post("judge")).formsets["datasets"].forms[0]
    offered = [v for v, _ in judge.fields["metrics"].choices]
    assert offered == [*rules.JUDGE_METRICS, "BrandVoice", "Tone"]
    human = bound("human", f.post("human")).formsets["datasets"].forms[0]
    assert human.fields["metrics"].choices == [
        ("Preference", "Preference"),
        ("Helpful", "Helpful"),
    ]
    rag = FORMS["rag"](initial=f.rag(source="kb_retrieve")).formsets["datasets"].forms[0]
    assert [v for v, _ in rag.fields["metrics"].choices] == list(rules.RAG_RETRIEVE_METRICS)


def test_metric_labels_are_words():
    form = FORMS["judge"]().formsets["datasets"].forms[0]
    labels = dict(form.fields["metrics"].choices)
    assert labels["Builtin.ProfessionalStyleAndTone"] == "Professional style and tone"


def test_a_judge_metric_offers_its_rating_scale_as_pairs_of_fields():
    levels = JudgeCustomMetricForm().rating_levels
    assert len(levels) == rules.MAX_RATING_SCALE_ITEMS
    assert [(v.name, d.name) for v, d in levels[:2]] == [
        ("scale_1_value", "scale_1_definition"),
        ("scale_2_value", "scale_2_definition"),
    ]


def test_model_rows_are_capped_by_kind():
    assert FORMS["programmatic"]().formsets["models"].max_num == 1
    assert FORMS["human"]().formsets["models"].max_num == 2
    assert FORMS["human"]().formsets["custom_metrics"].max_num == 10
    assert FORMS["judge"]().formsets["datasets"].max_num == 5
    assert FORMS["rag"]().formsets["tags"].max_num == 200
