"""The Store on one DynamoDB table (single-table design, on-demand capacity).

Item types (pk / sk):
- `BIZ#<cvr>` / `BIZ`: a business: private document, curated fields, version, and while visible
  its public feature plus the attributes of the indexes below.
- `NETWORKS` / `<id>`: a network document. `MUNICIPALITIES` / `<kommunekode>`: a municipality.
- `META` / `COUNT`, `HIDDEN`, `EXTENT`: the number of visible businesses, the set of hidden
  CVR numbers (hidden on request or moved out of the area), the extent of the data.
- `REC#<kind>` / `<key>`: operational records (job state, run reports, quarantine, geocoding
  cache), one partition per kind, listed by key.

Indexes (GSIs, each projecting the feature and the filter attributes):
- `strip0` ... `strip5`: the spatial index (see `dynamo_keys`): viewport queries.
- `by_municipality`: kommunekode / cvr: municipality listings.
- `by_industry`: `SEC#<section>` / `<code>#<cvr>`: industry listings by section or code prefix.
- `by_id`: `BIZ#<first digit>` / cvr: the whole collection in CVR order, in 9 partitions.
No public path calls Scan. docs/DYNAMODB.md has the access patterns.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import Conflict, InvalidParameter, NotFound, StoreUnavailable
from chalicelib.domain.text import search_fold
from chalicelib.store import CollectionId, Extent, FeaturePage, FeatureQuery, WriteResult
from chalicelib.store.dynamo_keys import (
    ID_SHARDS,
    LEVELS,
    MAX_QUERIES_PER_PAGE,
    business_pk,
    strip_pk,
    strip_row,
    strip_sk,
    viewport_plan,
)
from chalicelib.store.shared import (
    StoreBase,
    check_precondition,
    content_digest,
    count_upsert,
    feature_matches,
    number_matched,
    public_networks,
    small_extent,
)

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Curation, Municipality, Network

_PROJECTED = [
    "feature",
    "lon",
    "lat",
    "municipality",
    "industry_code",
    "section",
    "st",
    "founded",
    "ceased",
    "name_fold",
]
_INDEXES: dict[str, tuple[str, str]] = {
    **{f"strip{lv}": (f"s{lv}pk", f"s{lv}sk") for lv in range(LEVELS)},
    "by_municipality": ("mpk", "msk"),
    "by_industry": ("ipk", "isk"),
    "by_id": ("apk", "ask"),
}
_BATCH_GET = 100
_COUNT_BUDGET = 8  # COUNT queries (each reads up to 1 MB) spent on an exact numberMatched
_BATCH_WRITE = 25


def _s(v: str) -> dict[str, str]:
    return {"S": v}


def _b(doc: dict[str, Any]) -> dict[str, bytes]:
    return {"B": orjson.dumps(doc)}


def _n(v: float | int) -> dict[str, str]:
    return {"N": repr(v) if isinstance(v, float) else str(v)}


@dataclass
class _Source:
    """One index partition (and sort-key range) that a query reads, in paging order."""

    index: str
    pk_value: str
    sk_low: str | None = None
    sk_high: str | None = None
    sk_prefix: str | None = None
    share: float = 1.0  # expected share of read items that pass the filters (edge strips)


class DynamoDBStore(StoreBase):
    """Store adapter on DynamoDB through boto3 (the same code runs in Lambda)."""

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        if client is None:
            import boto3
            from botocore.config import Config

            client = boto3.client(
                "dynamodb",
                config=Config(
                    # throttling and 5xx are retried with backoff, never surfaced at once
                    retries={
                        "max_attempts": int(os.environ.get("AWS_MAX_ATTEMPTS", "10")),
                        "mode": "adaptive",
                    },
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
        self.client = client
        self.calls: Counter[str] = Counter()  # operations, items scanned/returned (benchmarks)

    # -- plumbing ------------------------------------------------------------------------------

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import (
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
            NoRegionError,
        )

        self.calls[operation] += 1
        try:
            return getattr(self.client, operation)(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ResourceNotFoundException":
                raise StoreUnavailable(
                    f"DynamoDB table '{self.table}' does not exist: create it with `mikrokort init`"
                ) from None
            raise
        except EndpointConnectionError:
            raise StoreUnavailable(
                f"cannot reach DynamoDB at {self.client.meta.endpoint_url}"
            ) from None
        except (NoCredentialsError, NoRegionError) as exc:
            raise StoreUnavailable(f"DynamoDB is not configured: {exc}") from None

    def close(self) -> None:
        pass

    # -- table ---------------------------------------------------------------------------------

    def create_table(self) -> bool:
        """Create the table and its indexes (on-demand); False when it already exists."""
        from botocore.exceptions import ClientError

        attrs = {"pk", "sk"} | {a for pair in _INDEXES.values() for a in pair}
        try:
            self.client.create_table(
                TableName=self.table,
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    {"AttributeName": a, "AttributeType": "S"} for a in sorted(attrs)
                ],
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                GlobalSecondaryIndexes=[
                    {
                        "IndexName": name,
                        "KeySchema": [
                            {"AttributeName": pk, "KeyType": "HASH"},
                            {"AttributeName": sk, "KeyType": "RANGE"},
                        ],
                        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": _PROJECTED},
                    }
                    for name, (pk, sk) in _INDEXES.items()
                ],
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceInUseException":
                return False
            raise
        except Exception as exc:
            from botocore.exceptions import EndpointConnectionError

            if isinstance(exc, EndpointConnectionError):
                raise StoreUnavailable(
                    f"cannot reach DynamoDB at {self.client.meta.endpoint_url}"
                ) from None
            raise
        self.client.get_waiter("table_exists").wait(TableName=self.table)
        return True

    # -- reads ---------------------------------------------------------------------------------

    def _business_item(self, cvr: str, projection: str) -> dict[str, Any] | None:
        return self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": _s(business_pk(cvr)), "sk": _s("BIZ")},
            ProjectionExpression=projection,
        ).get("Item")

    def _business_feature(self, cvr: str) -> bytes | None:
        item = self._business_item(cvr, "feature")
        return item["feature"]["S"].encode() if item and "feature" in item else None

    def extent(self, collection: CollectionId) -> Extent:
        if collection == "businesses":
            item = self._meta("EXTENT")
            if not item or "minx" not in item:
                return Extent(bbox=None, interval=(None, None))
            bbox = tuple(float(item[k]["N"]) for k in ("minx", "miny", "maxx", "maxy"))
            founded = item.get("founded", {}).get("S")
            return Extent(bbox=bbox, interval=(founded, None))  # type: ignore[arg-type]
        return small_extent(self._small_features(collection))

    def _meta(self, name: str) -> dict[str, Any] | None:
        return self._call(
            "get_item", TableName=self.table, Key={"pk": _s("META"), "sk": _s(name)}
        ).get("Item")

    def _hidden(self) -> set[str]:
        item = self._meta("HIDDEN")
        return set(item["cvrs"]["SS"]) if item and "cvrs" in item else set()

    def _partition(self, pk: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": _s(pk)},
        }
        while True:
            resp = self._call("query", **kwargs)
            items += resp["Items"]
            if "LastEvaluatedKey" not in resp:
                return items
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def _small_features(self, collection: CollectionId) -> list[dict[str, Any]]:
        if collection == "municipalities":
            return [orjson.loads(i["feature"]["S"]) for i in self._partition("MUNICIPALITIES")]
        from chalicelib.domain.models import Network

        hidden = self._hidden()
        networks = [Network.model_validate_json(i["doc"]["B"]) for i in self._partition("NETWORKS")]
        return public_networks(networks, hidden)

    def _query_businesses(self, q: FeatureQuery, count: bool) -> FeaturePage:
        if q.network is not None:
            return self._query_network_members(q, count)
        plan, sources = self._plan(q)
        start_source, start_sk = 0, None
        if q.after is not None:
            tag, _, rest = q.after.partition(":")
            index_text, _, start_sk = rest.partition(":")
            if tag != plan or not index_text.isdigit() or int(index_text) >= len(sources):
                raise InvalidParameter(
                    "the cursor does not belong to this query", parameter="cursor"
                )
            start_source = int(index_text)
        filters, names, values = self._filter_expression(q)
        taken: list[tuple[int, dict[str, Any]]] = []
        want = q.limit + 1
        calls = 0
        # viewports: at most 8 Query calls a page; listings may visit all 9 id partitions
        budget = MAX_QUERIES_PER_PAGE if q.bbox is not None else 2 * MAX_QUERIES_PER_PAGE
        resume: tuple[int, str] | None = None  # where to go on when the call budget runs out
        for si in range(start_source, len(sources)):
            src = sources[si]
            pk_attr, sk_attr = _INDEXES[src.index]
            kwargs = self._query_args(src, filters, names, values)
            kwargs["ProjectionExpression"] = "pk, sk, feature, #sk"
            kwargs["ExpressionAttributeNames"] = {"#sk": sk_attr, **names}
            if si == start_source and start_sk:
                cvr = start_sk.rsplit("#", 1)[-1]
                kwargs["ExclusiveStartKey"] = {
                    "pk": _s(business_pk(cvr)),
                    "sk": _s("BIZ"),
                    pk_attr: _s(src.pk_value),
                    sk_attr: _s(start_sk),
                }
            position = (si, start_sk if si == start_source and start_sk else "")
            while len(taken) < want:
                if calls == budget:
                    resume = position
                    break
                kwargs["Limit"] = _call_limit(want - len(taken), src.share)
                resp = self._call("query", **kwargs)
                calls += 1
                self.calls["scanned"] += resp["ScannedCount"]
                for item in resp["Items"]:
                    taken.append((si, item))
                    if len(taken) == want:
                        break
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
                position = (si, resp["LastEvaluatedKey"][sk_attr]["S"])
            if len(taken) >= want or resume is not None:
                break
        more = len(taken) > q.limit
        taken = taken[: q.limit]
        self.calls["returned"] += len(taken)
        next_after = None
        if more:
            si, item = taken[-1]
            sk_attr = _INDEXES[sources[si].index][1]
            next_after = f"{plan}:{si}:{item[sk_attr]['S']}"
        elif resume is not None:  # a short page: the rest follows from where reading stopped
            more = True
            next_after = f"{plan}:{resume[0]}:{resume[1]}"
        matched = None
        if count:
            matched = number_matched(
                q,
                len(taken),
                more,
                visible=self._visible_count,
                selected=lambda: self._count(sources, filters, names, values),
            )
        return FeaturePage(
            features=[item["feature"]["S"].encode() for _, item in taken],
            next_after=next_after,
            number_matched=matched,
        )

    def _visible_count(self) -> int:
        item = self._meta("COUNT")
        return int(item["value"]["N"]) if item else 0

    def _query_args(
        self, src: _Source, filters: str, names: dict[str, str], values: dict[str, Any]
    ) -> dict[str, Any]:
        pk_attr, sk_attr = _INDEXES[src.index]
        cond = f"{pk_attr} = :pk"
        vals = {":pk": _s(src.pk_value), **values}
        if src.sk_low is not None and src.sk_high is not None:
            cond += f" AND {sk_attr} BETWEEN :lo AND :hi"
            vals[":lo"], vals[":hi"] = _s(src.sk_low), _s(src.sk_high)
        elif src.sk_prefix is not None:
            cond += f" AND begins_with({sk_attr}, :pre)"
            vals[":pre"] = _s(src.sk_prefix)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": src.index,
            "KeyConditionExpression": cond,
            "ExpressionAttributeValues": vals,
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if filters:
            kwargs["FilterExpression"] = filters
        return kwargs

    def _count(
        self, sources: list[_Source], filters: str, names: dict[str, str], values: dict[str, Any]
    ) -> int | None:
        """numberMatched by COUNT queries, or None when that would take more than a few calls."""
        total, calls = 0, 0
        for src in sources:
            kwargs = self._query_args(src, filters, names, values)
            kwargs["Select"] = "COUNT"
            while True:
                calls += 1
                if calls > _COUNT_BUDGET:
                    return None
                resp = self._call("query", **kwargs)
                total += resp["Count"]
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return total

    @staticmethod
    def _plan(q: FeatureQuery) -> tuple[str, list[_Source]]:
        """Which index partitions answer the query, in paging order."""
        if q.bbox is not None:
            level, ranges = viewport_plan(q.bbox)
            return f"s{level}", [
                _Source(f"strip{level}", r.pk, r.sk_low, r.sk_high, share=r.share) for r in ranges
            ]
        if q.municipality is not None:
            return "m", [_Source("by_municipality", q.municipality)]
        if q.industry is not None:
            from chalicelib.domain.industry import section_of

            if q.industry.isalpha():
                return "i", [_Source("by_industry", f"SEC#{q.industry}")]
            section = section_of(q.industry) or "-"
            return "i", [_Source("by_industry", f"SEC#{section}", sk_prefix=q.industry)]
        return "a", [_Source("by_id", f"BIZ#{d}") for d in ID_SHARDS]

    @staticmethod
    def _filter_expression(q: FeatureQuery) -> tuple[str, dict[str, str], dict[str, Any]]:
        """The FilterExpression of `shared.feature_matches`, less what the index key covers."""
        parts: list[str] = []
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if q.bbox is not None:
            parts.append("lon BETWEEN :x0 AND :x1 AND lat BETWEEN :y0 AND :y1")
            values.update(
                {
                    ":x0": _n(q.bbox[0]),
                    ":x1": _n(q.bbox[2]),
                    ":y0": _n(q.bbox[1]),
                    ":y1": _n(q.bbox[3]),
                }
            )
        if q.municipality is not None and q.bbox is not None:
            parts.append("municipality = :m")
            values[":m"] = _s(q.municipality)
        if q.industry is not None and (q.bbox is not None or q.municipality is not None):
            if q.industry.isalpha():
                parts.append("#section = :sec")
                names["#section"] = "section"
                values[":sec"] = _s(q.industry)
            else:
                parts.append("begins_with(industry_code, :code)")
                values[":code"] = _s(q.industry)
        if q.status is not None:
            parts.append("st = :st")
            values[":st"] = _s(q.status)
        if q.interval is not None:
            start, end = q.interval
            if end is not None:
                parts.append("(attribute_not_exists(founded) OR founded <= :end)")
                values[":end"] = _s(end.isoformat())
            if start is not None:
                parts.append("(attribute_not_exists(ceased) OR ceased > :start)")
                values[":start"] = _s(start.isoformat())
        if q.founded_from is not None:
            parts.append("founded >= :ff")
            values[":ff"] = _s(q.founded_from.isoformat())
        if q.q is not None:
            parts.append("contains(name_fold, :q)")
            values[":q"] = _s(search_fold(q.q))
        return " AND ".join(parts), names, values

    def _query_network_members(self, q: FeatureQuery, count: bool) -> FeaturePage:
        network = self.get_network(q.network or "")
        members = sorted(network.members) if network else []
        after = q.after.partition(":")[2] if q.after else ""
        candidates = [m for m in members if m > after]
        # the members are the selection of `network`; the other filters are tested here
        rest = q.model_copy(update={"network": None})
        matched: list[bytes] = []
        ids: list[str] = []
        for i in range(0, len(candidates), _BATCH_GET):
            chunk = candidates[i : i + _BATCH_GET]
            for item in sorted(
                self._batch_get(chunk, "cvr, feature"), key=lambda it: it["cvr"]["S"]
            ):
                if "feature" not in item:
                    continue
                feature = item["feature"]["S"].encode()
                if feature_matches(orjson.loads(feature), rest):
                    matched.append(feature)
                    ids.append(item["cvr"]["S"])
            if len(matched) > q.limit:
                break
        more = len(matched) > q.limit
        return FeaturePage(
            features=matched[: q.limit],
            next_after=f"n:{ids[q.limit - 1]}" if more else None,
            number_matched=(
                number_matched(
                    q, len(matched), more, visible=self._visible_count, selected=lambda: None
                )
                if count
                else None
            ),
        )

    def _batch_get(self, cvrs: list[str], projection: str) -> list[dict[str, Any]]:
        attrs = [a.strip() for a in projection.split(",")]
        names = {f"#a{i}": a for i, a in enumerate(attrs)}  # sidesteps reserved words
        request: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": _s(business_pk(c)), "sk": _s("BIZ")} for c in cvrs],
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
            }
        }
        items: list[dict[str, Any]] = []
        for attempt in range(12):
            resp = self._call("batch_get_item", RequestItems=request)
            items += resp["Responses"].get(self.table, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                return items
            _backoff(attempt)
        raise StoreUnavailable("DynamoDB kept returning unprocessed keys; try again later")

    # -- writes --------------------------------------------------------------------------------

    def get_business(self, business_id: str) -> Business | None:
        if not business_id.isdigit():
            return None
        item = self._business_item(business_id, "doc, curated, nets")
        return _business_from(item) if item else None

    def get_businesses(self, business_ids: Iterable[str]) -> dict[str, Business]:
        cvrs = sorted({i for i in business_ids if i.isdigit()})
        out: dict[str, Business] = {}
        for i in range(0, len(cvrs), _BATCH_GET):
            for item in self._batch_get(cvrs[i : i + _BATCH_GET], "cvr, doc, curated, nets"):
                out[item["cvr"]["S"]] = _business_from(item)
        return out

    def upsert_businesses(self, businesses: Iterable[Business]) -> WriteResult:
        result = WriteResult()
        chunk: list[Business] = []
        for b in businesses:
            chunk.append(b)
            if len(chunk) == _BATCH_GET:
                result += self._upsert_chunk(chunk)
                chunk = []
        if chunk:
            result += self._upsert_chunk(chunk)
        return result

    def _existing(self, cvrs: list[str]) -> dict[str, dict[str, Any]]:
        items = self._batch_get(cvrs, "cvr, version, content_hash, curated, nets, hidden")
        return {i["cvr"]["S"]: i for i in items}

    def _upsert_chunk(self, chunk: list[Business]) -> WriteResult:
        from chalicelib.domain.models import Curation

        chunk = list({b.id: b for b in chunk}.values())
        existing = self._existing([b.id for b in chunk])
        result = WriteResult()
        inserts: list[dict[str, Any]] = []
        updates: list[tuple[Business, dict[str, Any]]] = []
        for b in chunk:
            old = existing.get(b.id)
            if old is not None:
                b = b.model_copy(
                    update={
                        "curated": Curation.model_validate_json(old["curated"]["S"]),
                        "networks": sorted(old.get("nets", {}).get("SS", [])),
                    }
                )
            else:
                b = b.model_copy(update={"networks": []})
            stored = (int(old["version"]["N"]), old["content_hash"]["S"]) if old else None
            version = count_upsert(result, b.id, content_digest(b), stored)
            if version is None:
                continue
            if old is None:
                inserts.append(_business_item(b, version))
            else:
                updates.append((b, old))
        # counts follow each write at once, so a crash leaves at most one write uncounted
        shown = []
        for i in range(0, len(inserts), _BATCH_WRITE):
            group = inserts[i : i + _BATCH_WRITE]
            self._batch_put(group)
            self._account_visibility([(item, None) for item in group], widen=False)
            shown += [item for item in group if not item["hidden"]["BOOL"]]
        for b, old in updates:
            written = self._put_update(b, old)
            self._account_visibility([(written, old)], widen=False)
            if not written["hidden"]["BOOL"]:
                shown.append(written)
        if shown:
            self._widen_extent(shown)
        return result

    def _account_visibility(
        self, changes: list[tuple[dict[str, Any], dict[str, Any] | None]], widen: bool = True
    ) -> None:
        """Keep the visible count, the hidden set and the extent in step with written items.

        `changes` pairs each written item with the item it replaced (None for an insert).
        """
        delta = 0
        to_hide: list[str] = []
        to_show: list[str] = []
        for new, old in changes:
            now_hidden = new["hidden"]["BOOL"]
            was_hidden = True if old is None else old.get("hidden", {}).get("BOOL", False)
            if old is None and now_hidden:
                to_hide.append(new["cvr"]["S"])
            if was_hidden == now_hidden:
                continue
            delta += -1 if now_hidden else 1
            if old is not None:
                (to_hide if now_hidden else to_show).append(new["cvr"]["S"])
        if delta:
            self._add_count(delta)
        if to_hide:
            self._set_hidden(add=to_hide)
        if to_show:
            self._set_hidden(remove=to_show)
        visible = [new for new, _ in changes if not new["hidden"]["BOOL"]]
        if visible and widen:
            self._widen_extent(visible)

    def _batch_put(self, items: list[dict[str, Any]]) -> None:
        self._batch_write([{"PutRequest": {"Item": it}} for it in items])

    def _batch_write(self, requests: list[dict[str, Any]]) -> None:
        """BatchWriteItem in groups of 25, retrying unprocessed items with backoff and jitter."""
        for i in range(0, len(requests), _BATCH_WRITE):
            request = {self.table: requests[i : i + _BATCH_WRITE]}
            for attempt in range(12):
                resp = self._call("batch_write_item", RequestItems=request)
                request = resp.get("UnprocessedItems") or {}
                if not request:
                    break
                _backoff(attempt)
            else:
                raise StoreUnavailable("DynamoDB kept returning unprocessed items; try again")

    def _put_update(
        self,
        b: Business,
        old: dict[str, Any],
        merge: Callable[[Business, dict[str, Any]], Business] | None = None,
    ) -> dict[str, Any]:
        """Conditional put on the version read; on a lost race, re-read, re-merge, retry.

        `merge` rebuilds the business from a fresh read; by default the register fields of
        `b` win and curated fields and memberships come from the fresh item.
        Returns the item written; `old` is updated in place to the item it replaced.
        """
        merge = merge or _keep_people_fields
        for attempt in range(8):
            version = int(old["version"]["N"])
            item = _business_item(b, version + 1)
            if self._put_if_version(item, version):
                return item
            fresh = self._read_business(b.id)
            fresh = fresh[1] if fresh else None
            if fresh is None:
                raise Conflict(f"business {b.id} was deleted while it was being updated")
            b = merge(b, fresh)
            old.clear()
            old.update(fresh)
            _backoff(attempt)
        raise Conflict(f"business {b.id} is being changed by another writer; try again")

    def _put_if_version(self, item: dict[str, Any], version: int) -> bool:
        """PutItem only over the version read; False when another writer changed it first."""
        from botocore.exceptions import ClientError

        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item=item,
                ConditionExpression="#v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": _n(version)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def _read_business(self, cvr: str) -> tuple[Business, dict[str, Any]] | None:
        """The business and its raw item (version, flags) in one read."""
        items = self._batch_get([cvr], "cvr, version, content_hash, curated, nets, hidden, doc")
        return (_business_from(items[0]), items[0]) if items else None

    def curate_business(
        self, business_id: str, curation: Curation, expected_version: int | None = None
    ) -> int:
        """Replace the curated fields; with `expected_version`, refuse a stale write (409)."""
        for attempt in range(8):
            found = self._read_business(business_id) if business_id.isdigit() else None
            if found is None:
                raise NotFound(f"no business {business_id}")
            current, old = found
            version = int(old["version"]["N"])
            if expected_version is not None and version != expected_version:
                raise Conflict(
                    f"business {business_id} is at version {version}, not {expected_version}"
                )
            item = _business_item(current.model_copy(update={"curated": curation}), version + 1)
            if not self._put_if_version(item, version):
                if expected_version is not None:
                    raise Conflict(f"business {business_id} changed meanwhile")
                _backoff(attempt)
                continue
            self._account_visibility([(item, old)])
            return version + 1
        raise Conflict(f"business {business_id} is being changed by another writer; try again")

    def _add_count(self, n: int) -> None:
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": _s("META"), "sk": _s("COUNT")},
            UpdateExpression="ADD #v :n",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":n": _n(n)},
        )

    def _set_hidden(self, add: list[str] | None = None, remove: list[str] | None = None) -> None:
        op, cvrs = ("ADD", add) if add else ("DELETE", remove)
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": _s("META"), "sk": _s("HIDDEN")},
            UpdateExpression=f"{op} cvrs :c",
            ExpressionAttributeValues={":c": {"SS": sorted(set(cvrs or []))}},
        )

    def _widen_extent(self, items: list[dict[str, Any]]) -> None:
        """Grow the stored extent to cover these items (conditional writes; it never shrinks)."""
        from botocore.exceptions import ClientError

        located = [i for i in items if "lon" in i]
        founded = [i["founded"]["S"] for i in items if "founded" in i]
        bounds: list[tuple[str, dict[str, str], str]] = []
        if located:
            xs = [float(i["lon"]["N"]) for i in located]
            ys = [float(i["lat"]["N"]) for i in located]
            bounds += [
                ("minx", _n(min(xs)), "<"),
                ("miny", _n(min(ys)), "<"),
                ("maxx", _n(max(xs)), ">"),
                ("maxy", _n(max(ys)), ">"),
            ]
        if founded:
            bounds.append(("founded", _s(min(founded)), "<"))
        for name, value, op in bounds:
            try:
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key={"pk": _s("META"), "sk": _s("EXTENT")},
                    UpdateExpression=f"SET {name} = :v",
                    ConditionExpression=f"attribute_not_exists({name}) OR :v {op} {name}",
                    ExpressionAttributeValues={":v": value},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise

    def get_network(self, network_id: str) -> Network | None:
        from chalicelib.domain.models import Network

        item = self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": _s("NETWORKS"), "sk": _s(network_id)},
        ).get("Item")
        return Network.model_validate_json(item["doc"]["B"]) if item else None

    def upsert_networks(self, networks: Iterable[Network]) -> WriteResult:
        from chalicelib.domain.models import Network

        result = WriteResult()
        for n in networks:
            doc = n.model_dump_json().encode()
            digest = content_digest(n)
            old_item = self._call(
                "get_item",
                TableName=self.table,
                Key={"pk": _s("NETWORKS"), "sk": _s(n.id)},
            ).get("Item")
            old = Network.model_validate_json(old_item["doc"]["B"]) if old_item else None
            stored = _stored(old_item)
            if count_upsert(result, n.id, digest, stored) is None:
                continue
            version = stored[0] if stored else 0
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    "pk": _s("NETWORKS"),
                    "sk": _s(n.id),
                    "doc": {"B": doc},
                    "version": _n(version + 1),
                    "content_hash": _s(digest),
                },
                ConditionExpression="attribute_not_exists(pk) OR #v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": _n(version)},
            )
            before = set(old.members) if old else set()
            after = set(n.members)
            self._set_memberships(n.id, add=sorted(after - before), remove=sorted(before - after))
        return result

    def _network_item(self, network_id: str) -> dict[str, Any] | None:
        return self._call(
            "get_item", TableName=self.table, Key={"pk": _s("NETWORKS"), "sk": _s(network_id)}
        ).get("Item")

    def network_digest(self, network_id: str) -> str | None:
        item = self._network_item(network_id)
        return item["content_hash"]["S"] if item else None

    def business_version(self, business_id: str) -> int | None:
        if not business_id.isdigit():
            return None
        item = self._business_item(business_id, "version")
        return int(item["version"]["N"]) if item else None

    def put_network(self, network: Network, if_match: str | None, *, create: bool = False) -> str:
        """Write one network only over the state read (create-only, or If-Match its digest)."""
        from botocore.exceptions import ClientError

        from chalicelib.domain.errors import PreconditionFailed
        from chalicelib.domain.models import Network

        old_item = self._network_item(network.id)
        current = old_item["content_hash"]["S"] if old_item else None
        check_precondition(network.id, current, if_match, create)
        digest = content_digest(network)
        if current == digest:
            return digest
        version = int(old_item["version"]["N"]) if old_item else 0
        condition = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if old_item is None
            else {
                "ConditionExpression": "content_hash = :h",
                "ExpressionAttributeValues": {":h": _s(current or "")},
            }
        )
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    "pk": _s("NETWORKS"),
                    "sk": _s(network.id),
                    "doc": {"B": network.model_dump_json().encode()},
                    "version": _n(version + 1),
                    "content_hash": _s(digest),
                },
                **condition,
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise PreconditionFailed(f"network {network.id} changed meanwhile") from None
        old = Network.model_validate_json(old_item["doc"]["B"]) if old_item else None
        before = set(old.members) if old else set()
        after = set(network.members)
        self._set_memberships(network.id, add=sorted(after - before), remove=sorted(before - after))
        return digest

    def delete_network(self, network_id: str, if_match: str | None) -> None:
        from botocore.exceptions import ClientError

        from chalicelib.domain.errors import PreconditionFailed
        from chalicelib.domain.models import Network

        old_item = self._network_item(network_id)
        current = old_item["content_hash"]["S"] if old_item else None
        check_precondition(network_id, current, if_match, False)
        assert old_item is not None
        try:
            self._call(
                "delete_item",
                TableName=self.table,
                Key={"pk": _s("NETWORKS"), "sk": _s(network_id)},
                ConditionExpression="content_hash = :h",
                ExpressionAttributeValues={":h": _s(current or "")},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise PreconditionFailed(f"network {network_id} changed meanwhile") from None
        members = Network.model_validate_json(old_item["doc"]["B"]).members
        self._set_memberships(network_id, add=[], remove=sorted(members))

    def _set_memberships(self, network_id: str, add: list[str], remove: list[str]) -> None:
        """Add or remove a network on businesses and re-render their public features."""

        changes = {cvr: True for cvr in add} | {cvr: False for cvr in remove}
        cvrs = sorted(changes)
        for i in range(0, len(cvrs), _BATCH_GET):
            items = self._batch_get(
                cvrs[i : i + _BATCH_GET], "cvr, version, content_hash, curated, nets, hidden, doc"
            )
            for old in items:
                joined = changes[old["cvr"]["S"]]

                def member(_: Business, fresh: dict[str, Any], joined: bool = joined) -> Business:
                    """The fresh item as it is (register fields, curation), membership changed."""
                    b = _business_from(fresh)
                    nets = (
                        set(b.networks) | {network_id} if joined else set(b.networks) - {network_id}
                    )
                    return b.model_copy(update={"networks": sorted(nets)})

                b = member(_business_from(old), old)
                written = self._put_update(b, old, merge=member)
                self._account_visibility([(written, old)], widen=False)

    # -- operational records -------------------------------------------------------------------

    def put_records(self, kind: str, records: dict[str, dict[str, Any]]) -> None:
        self._batch_write(
            [
                {"PutRequest": {"Item": {"pk": _s(f"REC#{kind}"), "sk": _s(k), "doc": _b(v)}}}
                for k, v in records.items()
            ]
        )

    def get_records(self, kind: str, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        keys = list(dict.fromkeys(keys))
        out: dict[str, dict[str, Any]] = {}
        for i in range(0, len(keys), _BATCH_GET):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": _s(f"REC#{kind}"), "sk": _s(k)} for k in keys[i : i + _BATCH_GET]
                    ]
                }
            }
            for attempt in range(12):
                resp = self._call("batch_get_item", RequestItems=request)
                for item in resp["Responses"].get(self.table, []):
                    out[item["sk"]["S"]] = orjson.loads(item["doc"]["B"])
                request = resp.get("UnprocessedKeys") or {}
                if not request:
                    break
                _backoff(attempt)
            else:
                raise StoreUnavailable("DynamoDB kept returning unprocessed keys; try again later")
        return out

    def list_records(
        self, kind: str, *, limit: int = 100, newest_first: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _s(f"REC#{kind}")},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        out: list[tuple[str, dict[str, Any]]] = []
        while len(out) < limit:
            resp = self._call("query", **kwargs)
            out += [(i["sk"]["S"], orjson.loads(i["doc"]["B"])) for i in resp["Items"]]
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            kwargs["Limit"] = limit - len(out)
        return out[:limit]

    def delete_records(self, kind: str, keys: Iterable[str]) -> None:
        self._batch_write(
            [
                {"DeleteRequest": {"Key": {"pk": _s(f"REC#{kind}"), "sk": _s(k)}}}
                for k in dict.fromkeys(keys)
            ]
        )

    def upsert_municipalities(self, municipalities: Iterable[Municipality]) -> WriteResult:
        from chalicelib.domain.privacy import public_municipality

        result = WriteResult()
        for m in municipalities:
            doc = m.model_dump_json().encode()
            digest = content_digest(m)
            key = {"pk": _s("MUNICIPALITIES"), "sk": _s(m.kommunekode)}
            old = self._call(
                "get_item",
                TableName=self.table,
                Key=key,
                ProjectionExpression="#v, content_hash",
                ExpressionAttributeNames={"#v": "version"},
            ).get("Item")
            version = count_upsert(result, m.kommunekode, digest, _stored(old))
            if version is None:
                continue
            feature = public_municipality(m)
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    **key,
                    "doc": {"B": doc},
                    "feature": _s(orjson.dumps(feature).decode()),
                    "version": _n(version),
                    "content_hash": _s(digest),
                },
            )
        return result


def _stored(item: dict[str, Any] | None) -> tuple[int, str] | None:
    """The (version, content digest) of a stored document item, None when absent."""
    return (int(item["version"]["N"]), item["content_hash"]["S"]) if item else None


def _call_limit(need: int, share: float) -> int:
    """Items to read in one Query so that about `need` pass the filter (1 MB caps it anyway)."""
    return max(1, min(2000, math.ceil(need / max(share, 0.05) * 1.1) + 5))


def _business_from(item: dict[str, Any]) -> Business:
    """A Business from an item holding `doc`, `curated` and `nets`."""
    from chalicelib.domain.models import Business, Curation

    return Business.model_validate_json(item["doc"]["B"]).model_copy(
        update={
            "curated": Curation.model_validate_json(item["curated"]["S"]),
            "networks": sorted(item.get("nets", {}).get("SS", [])),
        }
    )


def _keep_people_fields(b: Business, fresh: dict[str, Any]) -> Business:
    from chalicelib.domain.models import Curation

    return b.model_copy(
        update={
            "curated": Curation.model_validate_json(fresh["curated"]["S"]),
            "networks": sorted(fresh.get("nets", {}).get("SS", [])),
        }
    )


def _backoff(attempt: int) -> None:
    """Exponential backoff with full jitter: 50 ms, 100 ms, ... up to 5 s."""
    time.sleep(random.uniform(0, min(5.0, 0.05 * 2**attempt)))


def _business_item(b: Business, version: int) -> dict[str, Any]:
    """The DynamoDB item of a business: private document, curation, and while visible its
    public feature and index attributes."""
    from chalicelib.domain.privacy import public_business

    item: dict[str, Any] = {
        "pk": _s(business_pk(b.id)),
        "sk": _s("BIZ"),
        "cvr": _s(b.id),
        "version": _n(version),
        "content_hash": _s(content_digest(b)),
        "doc": {"B": b.model_dump_json(exclude={"curated", "networks"}).encode()},
        "curated": _s(b.curated.model_dump_json()),
        "hidden": {"BOOL": not b.public},
    }
    if b.networks:
        item["nets"] = {"SS": sorted(b.networks)}
    feature = public_business(b)
    if feature is None:
        return item
    item["feature"] = _s(orjson.dumps(feature).decode())
    item["st"] = _s(b.status)
    item["name_fold"] = _s(search_fold(b.name))
    item["apk"], item["ask"] = _s(f"BIZ#{b.id[0]}"), _s(b.id)
    for attr, value in (
        ("municipality", b.municipality),
        ("industry_code", b.industry_code),
        ("section", b.industry_section),
        ("founded", b.founded.isoformat() if b.founded else None),
        ("ceased", b.ceased.isoformat() if b.ceased else None),
    ):
        if value is not None:
            item[attr] = _s(value)
    if b.municipality:
        item["mpk"], item["msk"] = _s(b.municipality), _s(b.id)
    if b.industry_code:
        item["ipk"] = _s(f"SEC#{b.industry_section or '-'}")
        item["isk"] = _s(f"{b.industry_code}#{b.id}")
    if feature["geometry"] is not None:
        lon, lat = feature["geometry"]["coordinates"]
        item["lon"], item["lat"] = _n(float(lon)), _n(float(lat))
        for lv in range(LEVELS):
            item[f"s{lv}pk"] = _s(strip_pk(lv, strip_row(lat, lv)))
            item[f"s{lv}sk"] = _s(strip_sk(lon, b.id))
    return item
