"""Forms that build a CreateEvaluationJob request, one per kind of job, and reject what
Bedrock would reject before anything is sent.

Each form is a plain Django form (the job's own fields) holding its formsets (tags,
models, dataset/metric configs, custom metrics). ``is_valid()``:

1. validates the fields themselves (required, parseable: JSON, numbers, known form choices);
2. builds the request and checks it with the contract (botocore's model: lengths, patterns,
   enums, counts) and the rules (jobs.bedrock.rules: what the model cannot express);
3. puts every violation on the field, or formset row field, whose value produced it, using
   the kind's path table (see paths.py), so the messages a user sees are the ones Bedrock
   would give, next to the right input.

Fields do not repeat the model's limits; the contract is the one source of them.

POST layout (no form prefix): the job's fields by name (``name``, ``role_arn``...), and
each formset under its prefix in Django's management-form layout: ``tags-TOTAL_FORMS``,
``tags-INITIAL_FORMS``, ``tags-0-key``, ``tags-0-DELETE``... ``form_data()`` flattens an
initial dict into that layout.

The package, one module per kind beside what they share: `base` (paths, the common rows and
formsets, path tables, EvaluationJobForm), `choices` (labels and choices), `custom_metrics`
(metrics an evaluator model scores: judge and RAG), `programmatic`, `judge`, `human`, `rag`,
`kinds` (FORMS: the form of each kind), `cloning` (names, a description back into initial
data, POST data) and `layout` (the page: sections, formset labels, the error summary, the
request in words for the review). Import the names below from `jobs.forms.evaluation`.
"""

from jobs.forms.evaluation.base import (
    OPERATION,
    EvaluationJobForm,
    name_check,
)
from jobs.forms.evaluation.choices import (
    builtin_dataset_choices,
    metric_choices,
    task_type_choices,
)
from jobs.forms.evaluation.cloning import (
    form_data,
    initial_from_description,
    suggest_clone_name,
)
from jobs.forms.evaluation.custom_metrics import JudgeCustomMetricForm
from jobs.forms.evaluation.human import HumanEvaluationForm
from jobs.forms.evaluation.judge import JudgeEvaluationForm
from jobs.forms.evaluation.kinds import FORMS
from jobs.forms.evaluation.programmatic import ProgrammaticEvaluationForm
from jobs.forms.evaluation.rag import RagEvaluationForm

__all__ = [
    "FORMS",
    "OPERATION",
    "EvaluationJobForm",
    "HumanEvaluationForm",
    "JudgeCustomMetricForm",
    "JudgeEvaluationForm",
    "ProgrammaticEvaluationForm",
    "RagEvaluationForm",
    "builtin_dataset_choices",
    "form_data",
    "initial_from_description",
    "metric_choices",
    "name_check",
    "suggest_clone_name",
    "task_type_choices",
]
