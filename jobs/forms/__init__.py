"""Forms of the dashboard. Evaluation jobs: see jobs.forms.evaluation."""

from jobs.forms.evaluation import (
    FORMS,
    EvaluationJobForm,
    HumanEvaluationForm,
    JudgeEvaluationForm,
    ProgrammaticEvaluationForm,
    RagEvaluationForm,
    form_data,
    initial_from_description,
    name_check,
    suggest_clone_name,
)

__all__ = [
    "FORMS",
    "EvaluationJobForm",
    "HumanEvaluationForm",
    "JudgeEvaluationForm",
    "ProgrammaticEvaluationForm",
    "RagEvaluationForm",
    "form_data",
    "initial_from_description",
    "name_check",
    "suggest_clone_name",
]
