"""The evaluation job form of each kind (jobs.bedrock.rules.KIND_*)."""

from __future__ import annotations

from jobs.bedrock import rules
from jobs.forms.evaluation.base import EvaluationJobForm
from jobs.forms.evaluation.human import HumanEvaluationForm
from jobs.forms.evaluation.judge import JudgeEvaluationForm
from jobs.forms.evaluation.programmatic import ProgrammaticEvaluationForm
from jobs.forms.evaluation.rag import RagEvaluationForm

FORMS: dict[str, type[EvaluationJobForm]] = {
    rules.KIND_PROGRAMMATIC: ProgrammaticEvaluationForm,
    rules.KIND_JUDGE: JudgeEvaluationForm,
    rules.KIND_HUMAN: HumanEvaluationForm,
    rules.KIND_RAG: RagEvaluationForm,
}
