"""Reads: features by index (the viewport plan, listings, network members), extent, documents.

Every call goes through `Connection._call` (boto3 GetItem, Query, BatchGetItem).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import InvalidParameter
from chalicelib.domain.filters import matches
from chalicelib.domain.models import is_cvr_number
from chalicelib.domain.text import search_fold
from chalicelib.store.dynamodb.connection import BATCH_GET, Connection
from chalicelib.store.dynamodb.items import attr_n, attr_s, business_from
from chalicelib.store.dynamodb.keys import (
    ID_SHARDS,
    MAX_QUERIES_PER_PAGE,
    business_pk,
    viewport_plan,
)
from chalicelib.store.dynamodb.schema import INDEXES
from chalicelib.store.port import CollectionId, Extent, FeaturePage, FeatureQuery
from chalicelib.store.shared import (
    feature_matches,
    number_matched,
    public_municipalities,
    public_networks,
    size_filter,
    small_extent,
)

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Network


COUNT_BUDGET = 8  # COUNT queries (each reads up to 1 MB) spent on an exact numberMatched
# A filter that no index bounds is read from the id partitions; above this many businesses
# that would cost too much per page, and the request is refused with what to add.
UNBOUNDED_FILTER_MAX = 200_000


@dataclass
class _Source:
    """One index partition (and sort-key range) that a query reads, in paging order."""

    index: str
    pk_value: str
    sk_low: str | None = None
    sk_high: str | None = None
    sk_prefix: str | None = None
    share: float = 1.0  # expected share of read items that pass the filters (edge strips)


def _call_limit(need: int, share: float) -> int:
    """Items to read in one Query so that about `need` pass the filter (1 MB caps it anyway)."""
    return max(1, min(2000, math.ceil(need / max(share, 0.05) * 1.1) + 5))


# Seconds after a write during which the indexes may not show it yet (DynamoDB propagates to
# GSIs asynchronously, usually within a second): no token is given out meanwhile.
SETTLE_S = 10


class Reads(Connection):
    """The Store's reads; no public path calls Scan."""

    settle_s: float = SETTLE_S  # an instance may wait less (a test of the settled token)

    def _business_item(self, cvr: str, projection: str) -> dict[str, Any] | None:
        return self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": attr_s(business_pk(cvr)), "sk": attr_s("BIZ")},
            ProjectionExpression=projection,
        ).get("Item")

    def _business_feature(self, cvr: str) -> bytes | None:
        item = self._business_item(cvr, "feature")
        return item["feature"]["S"].encode() if item and "feature" in item else None

    def change_token(self) -> str | None:
        """The change counter that every write of public data moves (Writes._changed), read
        strongly consistent: one small GetItem. The indexes (GSIs) the answers read from lag
        the table by a moment, so for `settle_s` after a write there is no token (None): the
        answers are then tagged from what they read, as a store without a token's are, and a
        tag made from the token only ever describes data the indexes have caught up with. None
        also on a table no write has touched since this version."""
        item = self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": attr_s("META"), "sk": attr_s("CHANGES")},
            ConsistentRead=True,
        ).get("Item")
        if item is None or time.time() - int(item["at"]["N"]) < self.settle_s:
            return None
        return f"dynamodb-{item['epoch']['S']}-{item['value']['N']}"

    def extent(self, collection: CollectionId) -> Extent:
        if collection == "businesses":
            item = self._meta("EXTENT")
            if not item or "minx" not in item:
                return Extent(bbox=None, interval=(None, None))
            bbox = tuple(float(item[k]["N"]) for k in ("minx", "miny", "maxx", "maxy"))
            founded = item.get("founded", {}).get("S")
            return Extent(bbox=bbox, interval=(founded, None))  # type: ignore[arg-type]
        return small_extent(self._collection_features(collection))

    def _hidden(self) -> set[str]:
        item = self._meta("HIDDEN")
        return set(item["cvrs"]["SS"]) if item and "cvrs" in item else set()

    def _small_features(self, collection: CollectionId) -> list[dict[str, Any]]:
        from chalicelib.domain.models import STORED, Network

        if collection == "municipalities":  # rendered from the documents, in today's shape
            return public_municipalities(
                i["doc"]["B"] for i in self._partition("MUNICIPALITIES") if "doc" in i
            )

        hidden = self._hidden()
        networks = [
            Network.model_validate_json(i["doc"]["B"], context=STORED)
            for i in self._partition("NETWORKS")
        ]
        return public_networks(networks, hidden)

    def _query_businesses(self, q: FeatureQuery, count: bool) -> FeaturePage:
        if q.network is not None:
            return self._query_network_members(q, count)
        plan, sources = self._plan(q)
        start_source, start_sk = 0, None
        if q.after is not None:
            tag, _, rest = q.after.partition(":")
            index_text, _, start_sk = rest.partition(":")
            digits = index_text.isascii() and index_text.isdigit()
            if tag != plan or not digits or int(index_text) >= len(sources):
                raise InvalidParameter(
                    "the cursor does not belong to this query", parameter="cursor"
                )
            start_source = int(index_text)
        filters, names, values = self._filter_expression(q)
        # tested here on each candidate's public feature: the filter, and the sizes (no index
        # holds them; the map's default, micro-businesses, keeps nearly all it reads)
        residual = q.filter
        if q.sizes is not None:
            sized = size_filter(q.sizes)
            residual = sized if residual is None else ["and", residual, sized]
        if residual is not None and plan == "a" and self._visible_count() > UNBOUNDED_FILTER_MAX:
            raise InvalidParameter(
                "this filter or size names no bbox, municipality or industry that an index "
                f"can read, and the store holds more than {UNBOUNDED_FILTER_MAX:,} businesses: "
                "add a bbox, a municipality (municipality=0376 or municipality IN (...) in the "
                "filter) or an industry",
                parameter="filter" if q.filter is not None else "size",
            )
        taken: list[tuple[int, dict[str, Any]]] = []
        want = q.limit + 1
        calls = 0
        # viewports: at most 8 Query calls a page; listings may visit all 9 id partitions
        budget = MAX_QUERIES_PER_PAGE if q.bbox is not None else 2 * MAX_QUERIES_PER_PAGE
        resume: tuple[int, str] | None = None  # where to go on when the call budget runs out
        for si in range(start_source, len(sources)):
            src = sources[si]
            pk_attr, sk_attr = INDEXES[src.index]
            kwargs = self._query_args(src, filters, names, values)
            kwargs["ProjectionExpression"] = "pk, sk, feature, #sk"
            kwargs["ExpressionAttributeNames"] = {"#sk": sk_attr, **names}
            if si == start_source and start_sk:
                cvr = start_sk.rsplit("#", 1)[-1]
                kwargs["ExclusiveStartKey"] = {
                    "pk": attr_s(business_pk(cvr)),
                    "sk": attr_s("BIZ"),
                    pk_attr: attr_s(src.pk_value),
                    sk_attr: attr_s(start_sk),
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
                    if residual is not None and not matches(
                        orjson.loads(item["feature"]["S"]), residual
                    ):
                        continue
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
            sk_attr = INDEXES[sources[si].index][1]
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
                selected=lambda: self._count(sources, filters, names, values, residual),
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
        pk_attr, sk_attr = INDEXES[src.index]
        cond = f"{pk_attr} = :pk"
        vals = {":pk": attr_s(src.pk_value), **values}
        if src.sk_low is not None and src.sk_high is not None:
            cond += f" AND {sk_attr} BETWEEN :lo AND :hi"
            vals[":lo"], vals[":hi"] = attr_s(src.sk_low), attr_s(src.sk_high)
        elif src.sk_prefix is not None:
            cond += f" AND begins_with({sk_attr}, :pre)"
            vals[":pre"] = attr_s(src.sk_prefix)
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
        self,
        sources: list[_Source],
        filters: str,
        names: dict[str, str],
        values: dict[str, Any],
        residual: list[Any] | None = None,
    ) -> int | None:
        """numberMatched by COUNT queries (with a residual filter, by reading the candidates'
        features and testing them), or None when that would take more than a few calls."""
        total, calls = 0, 0
        for src in sources:
            kwargs = self._query_args(src, filters, names, values)
            if residual is None:
                kwargs["Select"] = "COUNT"
            else:
                kwargs["ProjectionExpression"] = "feature"
            while True:
                calls += 1
                if calls > COUNT_BUDGET:
                    return None
                resp = self._call("query", **kwargs)
                if residual is None:
                    total += resp["Count"]
                else:
                    total += sum(
                        matches(orjson.loads(i["feature"]["S"]), residual) for i in resp["Items"]
                    )
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
                    ":x0": attr_n(q.bbox[0]),
                    ":x1": attr_n(q.bbox[2]),
                    ":y0": attr_n(q.bbox[1]),
                    ":y1": attr_n(q.bbox[3]),
                }
            )
        if q.municipality is not None and q.bbox is not None:
            parts.append("municipality = :m")
            values[":m"] = attr_s(q.municipality)
        if q.industry is not None and (q.bbox is not None or q.municipality is not None):
            if q.industry.isalpha():
                parts.append("#section = :sec")
                names["#section"] = "section"
                values[":sec"] = attr_s(q.industry)
            else:
                parts.append("begins_with(industry_code, :code)")
                values[":code"] = attr_s(q.industry)
        if q.status is not None:
            parts.append("st = :st")
            values[":st"] = attr_s(q.status)
        if q.founded_to is not None:
            parts.append("founded <= :ft")
            values[":ft"] = attr_s(q.founded_to.isoformat())
        if q.founded_from is not None:
            parts.append("founded >= :ff")
            values[":ff"] = attr_s(q.founded_from.isoformat())
        if q.q is not None:
            parts.append("contains(name_fold, :q)")
            values[":q"] = attr_s(search_fold(q.q))
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
        for i in range(0, len(candidates), BATCH_GET):
            chunk = candidates[i : i + BATCH_GET]
            for item in sorted(
                self._batch_get(chunk, "cvr, feature, nets"), key=lambda it: it["cvr"]["S"]
            ):
                # each feature is taken with its own memberships: one that left the network
                # since its document was read is not shown as a member
                if "feature" not in item or q.network not in item.get("nets", {}).get("SS", []):
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

    def get_business(self, business_id: str) -> Business | None:
        if not is_cvr_number(business_id):
            return None
        item = self._business_item(business_id, "doc, curated, nets")
        return business_from(item) if item else None

    def get_businesses(self, business_ids: Iterable[str]) -> dict[str, Business]:
        cvrs = sorted({i for i in business_ids if is_cvr_number(i)})
        out: dict[str, Business] = {}
        for i in range(0, len(cvrs), BATCH_GET):
            for item in self._batch_get(cvrs[i : i + BATCH_GET], "cvr, doc, curated, nets"):
                out[item["cvr"]["S"]] = business_from(item)
        return out

    def _read_business(self, cvr: str) -> tuple[Business, dict[str, Any]] | None:
        """The business and its raw item (version, flags) in one strongly consistent read."""
        items = self._batch_get(
            [cvr], "cvr, version, content_hash, curated, nets, hidden, doc", consistent=True
        )
        return (business_from(items[0]), items[0]) if items else None

    def get_business_versioned(self, business_id: str) -> tuple[Business, int] | None:
        found = self._read_business(business_id) if is_cvr_number(business_id) else None
        return (found[0], int(found[1]["version"]["N"])) if found else None

    def get_network(self, network_id: str) -> Network | None:
        from chalicelib.domain.models import STORED, Network

        item = self._network_item(network_id)
        return Network.model_validate_json(item["doc"]["B"], context=STORED) if item else None

    def get_network_versioned(self, network_id: str) -> tuple[Network, str] | None:
        from chalicelib.domain.models import STORED, Network

        item = self._network_item(network_id, consistent=True)
        if item is None:
            return None
        return (
            Network.model_validate_json(item["doc"]["B"], context=STORED),
            item["content_hash"]["S"],
        )

    def _network_item(self, network_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        return self._call(
            "get_item",
            TableName=self.table,
            Key={"pk": attr_s("NETWORKS"), "sk": attr_s(network_id)},
            ConsistentRead=consistent,
        ).get("Item")

    def network_digest(self, network_id: str) -> str | None:
        item = self._network_item(network_id)
        return item["content_hash"]["S"] if item else None

    def business_version(self, business_id: str) -> int | None:
        if not is_cvr_number(business_id):
            return None
        item = self._business_item(business_id, "version")
        return int(item["version"]["N"]) if item else None
