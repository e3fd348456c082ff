"""A job's per-prompt records: keyset pages, filtered and sorted by any metric through
ResultScore's index; and the rows the exports write."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q, QuerySet

from jobs.models import (
    EvaluationResultSet,
    ResultRecord,
    ResultScore,
)
from jobs.pagination import (
    BIGINT,
    NEXT,
    PREV,
    KeysetPage,
    TamperedPageToken,
    keyset_page,
    page_scope,
    token_decode,
    token_encode,
)

# --- Prompts: per-record keyset pages -----------------------------------------------------------

POSITION, SCORE_ASC, SCORE_DESC = "position", "score", "-score"
RANGE_ANY, RANGE_NULL, RANGE_BELOW, RANGE_ABOVE = "", "null", "below", "above"


@dataclass(frozen=True)
class RecordFilters:
    metric: str
    dataset: str = ""
    model: str = ""
    range: str = RANGE_ANY
    x: float | None = None
    sort: str = POSITION

    def scope(self, result_set: EvaluationResultSet) -> str:
        params = {
            "dataset": self.dataset,
            "model": self.model,
            "metric": self.metric,
            "range": self.range,
            "x": repr(self.x) if self.x is not None else "",
            "sort": self.sort,
        }
        return page_scope(f"results:{result_set.pk}", params)


@dataclass
class RecordRow:
    record: ResultRecord
    value: float | None  # the chosen metric's score

    @property
    def scores(self) -> list[tuple[str, Any]]:
        scores = self.record.scores if isinstance(self.record.scores, dict) else {}
        return sorted(scores.items())

    @property
    def explanations(self) -> list[tuple[str, Any]]:
        found = self.record.explanations
        return sorted(found.items()) if isinstance(found, dict) else []


def _range_q(filters: RecordFilters, prefix: str = "") -> Q:
    if filters.range == RANGE_NULL:
        return Q(**{f"{prefix}value__isnull": True})
    if filters.range == RANGE_BELOW and filters.x is not None:
        return Q(**{f"{prefix}value__lt": filters.x})
    if filters.range == RANGE_ABOVE and filters.x is not None:
        return Q(**{f"{prefix}value__gt": filters.x})
    return Q()


def evaluation_result_records(
    *,
    result_set: EvaluationResultSet,
    filters: RecordFilters,
    size: int,
    token: str | None,
) -> KeysetPage[RecordRow]:
    """One page of records. By position: keyset over (dataset, position, id). By a metric's
    score: keyset over that metric's ResultScore rows, (value, record) in either direction with
    the records that have no score for it (null) last. Raises PageTokenError."""
    scope = filters.scope(result_set)
    if filters.sort == POSITION:
        records = ResultRecord.objects.filter(result_set=result_set)
        if filters.dataset:
            records = records.filter(dataset=filters.dataset)
        if filters.model:
            records = records.filter(model=filters.model)
        if filters.range != RANGE_ANY:
            # One filter() call: the metric and its value are conditions on the same row.
            records = records.filter(
                Q(score_rows__metric=filters.metric) & _range_q(filters, "score_rows__")
            )
        page = keyset_page(
            records,
            size=size,
            token=token,
            scope=scope,
            descending=False,
            keys=("dataset", "position", "id"),
        )
        rows = [RecordRow(record=r, value=_score_of(r, filters.metric)) for r in page.items]
        return KeysetPage(items=rows, next_token=page.next_token, prev_token=page.prev_token)

    scores = ResultScore.objects.filter(result_set=result_set, metric=filters.metric)
    if filters.dataset:
        scores = scores.filter(record__dataset=filters.dataset)
    if filters.model:
        scores = scores.filter(record__model=filters.model)
    scores = scores.filter(_range_q(filters)).select_related("record")
    page = _score_page(
        scores, size=size, token=token, scope=scope, descending=filters.sort == SCORE_DESC
    )
    rows = [RecordRow(record=s.record, value=s.value) for s in page.items]
    return KeysetPage(items=rows, next_token=page.next_token, prev_token=page.prev_token)


def _score_of(record: ResultRecord, metric: str) -> float | None:
    value = record.scores.get(metric) if isinstance(record.scores, dict) else None
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _score_key(score: ResultScore) -> tuple[int, str, int]:
    """A token's key: (null?, value as repr, record id). repr() round-trips a float exactly."""
    if score.value is None:
        return (1, "", score.record_id)
    return (0, repr(float(score.value)), score.record_id)


def _decode_score_key(key: tuple) -> tuple[bool, float | None, int]:
    try:
        is_null, value, record_id = key
        if (
            is_null not in (0, 1)
            or not isinstance(record_id, int)
            or not 0 <= record_id < BIGINT
            or not isinstance(value, str)
            or len(value) > 40
        ):
            raise ValueError
        number = None if is_null else float(value)
        if number is not None and not math.isfinite(number):
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise TamperedPageToken("unexpected key in page token") from exc
    return bool(is_null), number, record_id


def _after(is_null: bool, value: float | None, record_id: int, *, descending: bool) -> Q:
    """Rows after the key in display order: values in order, nulls last, ties by record."""
    beyond, rid = ("value__lt", "record_id__lt") if descending else ("value__gt", "record_id__gt")
    if is_null:
        return Q(value__isnull=True, **{rid: record_id})
    return Q(**{beyond: value}) | Q(value=value, **{rid: record_id}) | Q(value__isnull=True)


def _before(is_null: bool, value: float | None, record_id: int, *, descending: bool) -> Q:
    beyond, rid = ("value__gt", "record_id__gt") if descending else ("value__lt", "record_id__lt")
    if is_null:
        return Q(value__isnull=False) | Q(value__isnull=True, **{rid: record_id})
    return Q(value__isnull=False) & (Q(**{beyond: value}) | Q(value=value, **{rid: record_id}))


def _score_page(
    scores: QuerySet, *, size: int, token: str | None, scope: str, descending: bool
) -> KeysetPage:
    value = F("value")
    if descending:
        forward = [value.desc(nulls_last=True), "-record_id"]
        backward = [value.asc(nulls_first=True), "record_id"]
    else:
        forward = [value.asc(nulls_last=True), "record_id"]
        backward = [value.desc(nulls_first=True), "-record_id"]

    def page(items: list, *, more_after: bool, more_before: bool, anchor=None) -> KeysetPage:
        next_token = prev_token = None
        if more_after and items:
            next_token = token_encode(key=_score_key(items[-1]), direction=NEXT, scope=scope)
        if more_before:
            start = _score_key(items[0]) if items else anchor
            if start is not None:
                prev_token = token_encode(key=start, direction=PREV, scope=scope)
        return KeysetPage(items=items, next_token=next_token, prev_token=prev_token)

    cursor = token_decode(token, scope=scope) if token else None
    if cursor is None:
        rows = list(scores.order_by(*forward)[: size + 1])
        return page(rows[:size], more_after=len(rows) > size, more_before=False)
    key = _decode_score_key(cursor.key)
    if cursor.direction == NEXT:
        rows = list(
            scores.filter(_after(*key, descending=descending)).order_by(*forward)[: size + 1]
        )
        return page(rows[:size], more_after=len(rows) > size, more_before=True, anchor=cursor.key)
    rows = list(scores.filter(_before(*key, descending=descending)).order_by(*backward)[: size + 1])
    if rows:
        return page(rows[:size][::-1], more_after=True, more_before=len(rows) > size)
    return _score_page(scores, size=size, token=None, scope=scope, descending=descending)


# --- Exports ------------------------------------------------------------------------------------


def evaluation_result_export_rows(*, result_set: EvaluationResultSet) -> Iterable[dict]:
    """One dict per aggregate, ordered by dataset, model, metric (by code point, so a file is
    the same bytes on every database): prompts, scored, mean (None when nothing was scored)."""
    rows = sorted(
        result_set.aggregates.values_list("dataset", "model", "metric", "prompts", "scored", "mean")
    )
    for dataset, model, metric, prompts, scored, mean in rows:
        yield {
            "dataset": dataset,
            "model": model,
            "metric": metric,
            "prompts": prompts,
            "scored": scored,
            "mean": mean if scored and mean is not None else None,
        }
