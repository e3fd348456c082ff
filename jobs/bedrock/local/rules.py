"""Kept for old import sites: the rules now live in jobs.bedrock.rules, shared by the
product's forms and the local Bedrock."""

from jobs.bedrock.rules import *  # noqa: F403
from jobs.bedrock.rules import __all__ as _shared
from jobs.bedrock.rules import evaluation_job_rules as evaluation_job_violations

__all__ = [*_shared, "evaluation_job_violations"]
