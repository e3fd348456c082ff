"""Our exceptions for what Bedrock answers. Product code catches these, never botocore's."""

from __future__ import annotations

from typing import Any


class BedrockError(Exception):
    """Bedrock refused or failed a request. Keeps Bedrock's code, message and request id."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        request_id: str = "",
        status_code: int | None = None,
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.request_id = request_id
        self.status_code = status_code
        self.operation = operation

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        rid = f" (request id {self.request_id})" if self.request_id else ""
        return f"{where}{self.code or type(self).__name__}: {self.message}{rid}"


class RetryableError(BedrockError):
    """Worth trying again later with the same request: throttling, 5xx, no connection."""

    retryable = True


class ThrottledError(RetryableError):
    pass


class ServiceError(RetryableError):
    """InternalServerException or any other 5xx."""


class EndpointUnreachableError(RetryableError):
    """No answer at all: connection refused, DNS, timeouts."""


class FinalError(BedrockError):
    """Trying the same request again cannot succeed."""


class ValidationError(FinalError):
    pass


class NotFoundError(FinalError):
    pass


class ConflictError(FinalError):
    pass


# The IAM action each Bedrock operation we call needs: the action is named after the
# operation. https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonbedrock.html
IAM_ACTIONS: dict[str, str] = {
    "create_evaluation_job": "bedrock:CreateEvaluationJob",
    "get_evaluation_job": "bedrock:GetEvaluationJob",
    "list_evaluation_jobs": "bedrock:ListEvaluationJobs",
    "stop_evaluation_job": "bedrock:StopEvaluationJob",
    "batch_delete_evaluation_job": "bedrock:BatchDeleteEvaluationJob",
    "create_model_import_job": "bedrock:CreateModelImportJob",
    "get_model_import_job": "bedrock:GetModelImportJob",
    "list_model_import_jobs": "bedrock:ListModelImportJobs",
    "get_imported_model": "bedrock:GetImportedModel",
    "list_imported_models": "bedrock:ListImportedModels",
    "delete_imported_model": "bedrock:DeleteImportedModel",
    "list_tags_for_resource": "bedrock:ListTagsForResource",
}
# Creating a job also passes its service role to Bedrock, and tags it when tags are given.
# https://docs.aws.amazon.com/bedrock/latest/userguide/model-evaluation-security-service-roles.html
_CREATES = frozenset({"create_evaluation_job", "create_model_import_job"})


class AccessDeniedError(FinalError):
    """The identity lacks a permission. The message says which IAM action the operation needs
    (decided from the operation, never read from Bedrock's wording), then Bedrock's own."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        operation = kwargs.get("operation", "")
        self.iam_action = IAM_ACTIONS.get(operation, "")
        if self.iam_action:
            needs = self.iam_action
            if operation in _CREATES:
                needs += (
                    " (and iam:PassRole on the job's service role, bedrock:TagResource for tags)"
                )
            message = (
                f"Access denied: the dashboard's AWS identity needs {needs}. "
                f"Bedrock said: {message}"
            )
        super().__init__(message, **kwargs)


class QuotaExceededError(FinalError):
    """A service quota is reached (ServiceQuotaExceededException, TooManyTagsException):
    the same request can succeed only once something is freed or the quota raised."""


class CredentialsError(FinalError):
    """boto3 found no AWS credentials, or they were rejected."""


# Bedrock's error codes (the model's error shape names) to our classes.
ERROR_CLASSES: dict[str, type[BedrockError]] = {
    "ThrottlingException": ThrottledError,
    "TooManyRequestsException": ThrottledError,
    "InternalServerException": ServiceError,
    "ServiceUnavailableException": ServiceError,
    "ValidationException": ValidationError,
    "ResourceNotFoundException": NotFoundError,
    "ConflictException": ConflictError,
    "AccessDeniedException": AccessDeniedError,
    "ServiceQuotaExceededException": QuotaExceededError,
    "TooManyTagsException": QuotaExceededError,
    "UnrecognizedClientException": CredentialsError,
    "InvalidSignatureException": CredentialsError,
    "ExpiredTokenException": CredentialsError,
    # S3's codes (evaluation outputs, jobs/bedrock/s3.py).
    "SlowDown": ThrottledError,
    "AccessDenied": AccessDeniedError,
    "NoSuchBucket": NotFoundError,
    "NoSuchKey": NotFoundError,
    "InvalidAccessKeyId": CredentialsError,
    "SignatureDoesNotMatch": CredentialsError,
    # STS's codes (connections: jobs/bedrock/sts.py, and assuming a role while signing).
    # https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_Errors
    "InvalidClientTokenId": CredentialsError,
    "ExpiredToken": CredentialsError,
    "RegionDisabledException": AccessDeniedError,
    "Throttling": ThrottledError,
    "ValidationError": ValidationError,
}


def error_class_for(code: str, status_code: int | None) -> type[BedrockError]:
    if code in ERROR_CLASSES:
        return ERROR_CLASSES[code]
    if status_code is not None and status_code >= 500:
        return ServiceError
    if status_code == 429:
        return ThrottledError
    return FinalError
