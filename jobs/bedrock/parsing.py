"""A faster botocore response parser for Bedrock's REST-JSON answers, same output.

botocore's RestJSONParser walks the output shape for every member of every item, dispatching
by type name each time: at 100,000 jobs (100 ListEvaluationJobs pages) that walk was 80% of a
sweep's listing in the profile (bench/sync.py --profile). This parser plans each structure
shape once (its members, their JSON names and what each needs: nothing for a string or a
boolean, the timestamp parser, a nested plan) and then only copies and converts. Anything
unusual (documents, unions, maps, blobs, header-bound values) goes to botocore's own handlers,
so the answers are the same dicts botocore gives (tests/jobs/bedrock/test_parsing.py compares
the two on the local Bedrock's answers).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.parsers import ResponseParserFactory, RestJSONParser
from botocore.utils import is_json_value_header

# Member types whose JSON value botocore's REST-JSON parser returns as it is.
_AS_IS = frozenset({"string", "boolean"})


Plan = list[tuple[str, str, Callable[[Any], Any] | None]]


class FastRestJSONParser(RestJSONParser):
    def __init__(self, *args: Any, plans: dict[Any, Plan] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # By shape object (botocore keeps one per operation's output): the endpoint makes a
        # parser per response, so the factory shares one cache between them.
        self._plans: dict[Any, Plan] = {} if plans is None else plans

    def _handle_structure(self, shape, value):
        if value is None or shape.is_document_type or shape.is_tagged_union:
            return super()._handle_structure(shape, value)
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plans[shape] = self._plan(shape)
        parsed = {}
        for member, json_name, convert in plan:
            raw = value.get(json_name)
            if raw is not None:
                parsed[member] = raw if convert is None else convert(raw)
        return parsed

    def _plan(self, shape) -> Plan:
        return [
            (name, member.serialization.get("name", name), self._converter(member))
            for name, member in shape.members.items()
        ]

    def _converter(self, shape) -> Callable[[Any], Any] | None:
        """None: the JSON value is the parsed value; else what turns one into the other."""
        kind = shape.type_name
        if kind in _AS_IS and not is_json_value_header(shape):
            return None
        if kind == "timestamp":
            return self._timestamp_parser
        if kind == "structure":
            return lambda raw: self._handle_structure(shape, raw)
        if kind == "list" and not shape.serialization.get("location"):
            item = self._converter(shape.member)
            if item is None:
                return list
            return lambda raw: [None if x is None else item(x) for x in raw]
        return lambda raw: self._parse_shape(shape, raw)


class FastParserFactory(ResponseParserFactory):
    """botocore's factory, with the fast parser for REST-JSON services (Bedrock)."""

    def __init__(self) -> None:
        super().__init__()
        self._plans: dict[Any, Plan] = {}

    def create_parser(self, protocol_name: str):
        if protocol_name == "rest-json":
            return FastRestJSONParser(plans=self._plans, **self._defaults)
        return super().create_parser(protocol_name)
