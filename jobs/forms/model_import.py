"""The form that builds a CreateModelImportJob request and rejects what Bedrock would reject
before anything is sent: the contract judges the request, and each violation lands on the
field that produced it (jobs.forms.requests, paths.py).

Lists are typed into one box each: subnet and security group ids separated by commas or
spaces, tags one ``key=value`` a line; a violation inside a list names its item ("Tag 2: ...").
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_CreateModelImportJob.html
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from jobs.bedrock import rules
from jobs.bedrock.contract import Violation
from jobs.forms.fields import kms_key_field, role_arn_field, text_field
from jobs.forms.paths import NON_FIELD, FormField, PathMap
from jobs.forms.requests import RequestForm

__all__ = ["OPERATION", "ModelImportJobForm"]

OPERATION = "CreateModelImportJob"
S3_URI = "modelDataSource.s3DataSource.s3Uri"


def _field(label: str, path: str, help_text: str, **kwargs: Any) -> forms.CharField:
    """A text field filling `path` of the request (its maximum length from the model)."""
    return text_field(label=label, path=path, help_text=help_text, operation=OPERATION, **kwargs)


def _no_nul(text: str) -> str:
    # CharField's own check looks at the cleaned value, a list here: check the text typed.
    if "\x00" in text:
        raise ValidationError("Null characters are not allowed.", code="null_characters")
    return text


class IdListField(forms.CharField):
    """Ids separated by commas, spaces or new lines; cleans to a list, None when blank."""

    def to_python(self, value: Any) -> list[str] | None:
        items = [v for v in re.split(r"[\s,]+", _no_nul(super().to_python(value) or "")) if v]
        return items or None

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value


class TagsField(forms.CharField):
    """Tags one a line, ``key=value`` (``key=`` for an empty value); cleans to Bedrock's
    [{"key", "value"}], None when blank. A line without ``=`` is an error, not a tag with an
    empty value: it is more often a mistyped separator than a wish."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: Any) -> list[dict[str, str]] | None:
        tags, missing = [], []
        lines = _no_nul(super().to_python(value) or "").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            key, equals, tag_value = line.partition("=")
            if not equals:
                missing.append(number)
            tags.append({"key": key.strip(), "value": tag_value.strip()})
        if missing:
            where = ", ".join(str(n) for n in missing[:10])
            raise ValidationError(
                "Line %(lines)s has no “=”: write each tag as key=value (key= for an empty value).",
                code="no_equals",
                params={"lines": where},
            )
        return tags or None

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(f"{t['key']}={t['value']}" for t in value)
        return value


def _item(label: str) -> Callable[[Mapping[str, int]], str]:
    return lambda indexes: f"{label} {indexes['i'] + 1}"


def _list_paths(path: str, field: str, label: str) -> dict[str, FormField]:
    """A list member typed into one field: its items and their members name the item."""
    return {
        path: FormField(field),
        f"{path}[{{i}}]": FormField(field, note=_item(label)),
        f"{path}[{{i}}].key": FormField(field, note=_item(label)),
        f"{path}[{{i}}].value": FormField(field, note=_item(label)),
    }


PATHS = PathMap(
    {
        "": NON_FIELD,
        "clientRequestToken": NON_FIELD,  # added by the submission service
        "jobName": FormField("name"),
        "importedModelName": FormField("imported_model_name"),
        "roleArn": FormField("role_arn"),
        "modelDataSource": FormField("model_data_uri"),
        "modelDataSource.s3DataSource": FormField("model_data_uri"),
        S3_URI: FormField("model_data_uri"),
        "vpcConfig": FormField("subnet_ids"),
        **_list_paths("vpcConfig.subnetIds", "subnet_ids", "Subnet"),
        **_list_paths("vpcConfig.securityGroupIds", "security_group_ids", "Security group"),
        "importedModelKmsKeyId": FormField("kms_key"),
        **_list_paths("jobTags", "job_tags", "Tag"),
        **_list_paths("importedModelTags", "model_tags", "Tag"),
    }
)

TAGS_HELP = "One tag a line, key=value; up to 200. Keys starting with aws: are reserved."


class ModelImportJobForm(RequestForm):
    """CreateModelImportJob: a custom model's weights in S3 become an imported model."""

    operation = OPERATION
    path_map = PATHS

    name = _field(
        "Import job name",
        "jobName",
        "Letters, digits and hyphens, up to 63 characters. Import jobs can never be deleted, so "
        "this name can never be used again.",
        required=True,
    )
    imported_model_name = _field(
        "Imported model name",
        "importedModelName",
        "The name of the model the job creates; unique among your imported models.",
        required=True,
    )
    role_arn = role_arn_field(
        operation=OPERATION,
        example_role="BedrockModelImportRole",
        help_text="The role Amazon Bedrock assumes to read the model files from S3.",
    )
    model_data_uri = _field(
        "Model data (S3 URI)",
        S3_URI,
        "The folder with the model's files in Hugging Face format (weights as .safetensors, "
        "config.json, tokenizer files).",
        required=True,
        placeholder="s3://my-bucket/models/llama-3-8b/",
    )
    subnet_ids = IdListField(
        label="VPC subnet IDs (optional)",
        required=False,
        help_text="To read S3 through your VPC: up to 16 subnet IDs, separated by commas.",
        widget=forms.TextInput(attrs={"placeholder": "subnet-0123456789abcdef0"}),
    )
    security_group_ids = IdListField(
        label="VPC security group IDs",
        required=False,
        help_text="With subnets: 1 to 5 security group IDs, separated by commas.",
        widget=forms.TextInput(attrs={"placeholder": "sg-0123456789abcdef0"}),
    )
    kms_key = kms_key_field(
        operation=OPERATION, path="importedModelKmsKeyId", what="the imported model"
    )
    job_tags = TagsField(label="Job tags (optional)", required=False, help_text=TAGS_HELP)
    model_tags = TagsField(label="Model tags (optional)", required=False, help_text=TAGS_HELP)

    def __init__(
        self, *args: Any, model_name_taken: Callable[[str], bool] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.model_name_taken = model_name_taken

    def build(self) -> dict[str, Any]:
        data = self.cleaned_data
        subnets, groups = data.get("subnet_ids"), data.get("security_group_ids")
        return {
            "jobName": data.get("name"),
            "importedModelName": data.get("imported_model_name"),
            "roleArn": data.get("role_arn"),
            "modelDataSource": {"s3DataSource": {"s3Uri": data.get("model_data_uri")}},
            "vpcConfig": (
                {"subnetIds": subnets, "securityGroupIds": groups} if subnets or groups else None
            ),
            "importedModelKmsKeyId": data.get("kms_key"),
            "jobTags": data.get("job_tags"),
            "importedModelTags": data.get("model_tags"),
        }

    def more_violations(self, request: dict[str, Any]) -> list[Violation]:
        out = rules.model_import_job_rules(request)
        model = request.get("importedModelName")
        if isinstance(model, str) and self.model_name_taken and self.model_name_taken(model):
            message = (
                f"an imported model named {model} already exists (or an import job is creating "
                "it); choose another name, or delete that model first"
            )
            out.append(Violation("importedModelName", message))
        return out

    @staticmethod
    def in_words(request: Mapping[str, Any]) -> str:
        """The request in one sentence, above the exact JSON on the review page."""
        source = ((request.get("modelDataSource") or {}).get("s3DataSource") or {}).get("s3Uri")
        words = (
            f"Import of the model files in {source} as the imported model "
            f"{request.get('importedModelName')}, by the import job {request.get('jobName')}"
        )
        subnets = (request.get("vpcConfig") or {}).get("subnetIds") or []
        if subnets:
            words += f", read through {len(subnets)} VPC subnet{'' if len(subnets) == 1 else 's'}"
        return words + "."

    def taken_message(self, name: str) -> str:
        return (
            f"a model import job named {name} already exists; import jobs cannot be deleted, "
            "so their names can never be used again"
        )

    @staticmethod
    def initial_for(request: Mapping[str, Any]) -> dict[str, Any]:
        """Form data that builds `request` again (a failed submission, back to its form)."""
        vpc = request.get("vpcConfig") or {}
        data = {
            "name": request.get("jobName", ""),
            "imported_model_name": request.get("importedModelName", ""),
            "role_arn": request.get("roleArn", ""),
            "model_data_uri": (
                (request.get("modelDataSource") or {}).get("s3DataSource") or {}
            ).get("s3Uri", ""),
            "subnet_ids": vpc.get("subnetIds") or [],
            "security_group_ids": vpc.get("securityGroupIds") or [],
            "kms_key": request.get("importedModelKmsKeyId", ""),
            "job_tags": request.get("jobTags") or [],
            "model_tags": request.get("importedModelTags") or [],
        }
        fields = ModelImportJobForm.base_fields
        return {key: fields[key].prepare_value(value) or "" for key, value in data.items()}
