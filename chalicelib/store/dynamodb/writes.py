"""Writes: upserts, curation and network edits, with the visible count, hidden set and extent
kept in step; every overwrite is conditional on the version read.

Every call goes through `Connection._call` (boto3 PutItem, UpdateItem, DeleteItem,
BatchWriteItem).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import orjson

from chalicelib.domain.errors import Conflict, NotFound
from chalicelib.store.dynamodb.connection import BATCH_GET, BATCH_WRITE, backoff
from chalicelib.store.dynamodb.items import (
    attr_n,
    attr_s,
    business_from,
    business_item,
    keep_people_fields,
    stored_state,
)
from chalicelib.store.dynamodb.reads import Reads
from chalicelib.store.port import WriteResult
from chalicelib.store.shared import check_precondition, content_digest, count_upsert

if TYPE_CHECKING:
    from chalicelib.domain.models import Business, Curation, Municipality, Network


class Writes(Reads):
    """The Store's writes (reads included: a write reads what it replaces)."""

    def upsert_businesses(self, businesses: Iterable[Business]) -> WriteResult:
        result = WriteResult()
        chunk: list[Business] = []
        for b in businesses:
            chunk.append(b)
            if len(chunk) == BATCH_GET:
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
                inserts.append(business_item(b, version))
            else:
                updates.append((b, old))
        # counts follow each write at once, so a crash leaves at most one write uncounted
        shown = []
        for i in range(0, len(inserts), BATCH_WRITE):
            group = inserts[i : i + BATCH_WRITE]
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
        merge = merge or keep_people_fields
        for attempt in range(8):
            version = int(old["version"]["N"])
            item = business_item(b, version + 1)
            if self._put_if_version(item, version):
                return item
            fresh = self._read_business(b.id)
            fresh = fresh[1] if fresh else None
            if fresh is None:
                raise Conflict(f"business {b.id} was deleted while it was being updated")
            b = merge(b, fresh)
            old.clear()
            old.update(fresh)
            backoff(attempt)
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
                ExpressionAttributeValues={":v": attr_n(version)},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            return False
        return True

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
            item = business_item(current.model_copy(update={"curated": curation}), version + 1)
            if not self._put_if_version(item, version):
                if expected_version is not None:
                    raise Conflict(f"business {business_id} changed meanwhile")
                backoff(attempt)
                continue
            self._account_visibility([(item, old)])
            return version + 1
        raise Conflict(f"business {business_id} is being changed by another writer; try again")

    def _add_count(self, n: int) -> None:
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": attr_s("META"), "sk": attr_s("COUNT")},
            UpdateExpression="ADD #v :n",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":n": attr_n(n)},
        )

    def _set_hidden(self, add: list[str] | None = None, remove: list[str] | None = None) -> None:
        op, cvrs = ("ADD", add) if add else ("DELETE", remove)
        self._call(
            "update_item",
            TableName=self.table,
            Key={"pk": attr_s("META"), "sk": attr_s("HIDDEN")},
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
                ("minx", attr_n(min(xs)), "<"),
                ("miny", attr_n(min(ys)), "<"),
                ("maxx", attr_n(max(xs)), ">"),
                ("maxy", attr_n(max(ys)), ">"),
            ]
        if founded:
            bounds.append(("founded", attr_s(min(founded)), "<"))
        for name, value, op in bounds:
            try:
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key={"pk": attr_s("META"), "sk": attr_s("EXTENT")},
                    UpdateExpression=f"SET {name} = :v",
                    ConditionExpression=f"attribute_not_exists({name}) OR :v {op} {name}",
                    ExpressionAttributeValues={":v": value},
                )
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise

    def upsert_networks(self, networks: Iterable[Network]) -> WriteResult:
        from chalicelib.domain.models import Network

        result = WriteResult()
        for n in networks:
            doc = n.model_dump_json().encode()
            digest = content_digest(n)
            old_item = self._call(
                "get_item",
                TableName=self.table,
                Key={"pk": attr_s("NETWORKS"), "sk": attr_s(n.id)},
            ).get("Item")
            old = Network.model_validate_json(old_item["doc"]["B"]) if old_item else None
            stored = stored_state(old_item)
            if count_upsert(result, n.id, digest, stored) is None:
                continue
            version = stored[0] if stored else 0
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    "pk": attr_s("NETWORKS"),
                    "sk": attr_s(n.id),
                    "doc": {"B": doc},
                    "version": attr_n(version + 1),
                    "content_hash": attr_s(digest),
                },
                ConditionExpression="attribute_not_exists(pk) OR #v = :v",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={":v": attr_n(version)},
            )
            before = set(old.members) if old else set()
            after = set(n.members)
            self._set_memberships(n.id, add=sorted(after - before), remove=sorted(before - after))
        return result

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
                "ExpressionAttributeValues": {":h": attr_s(current or "")},
            }
        )
        try:
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    "pk": attr_s("NETWORKS"),
                    "sk": attr_s(network.id),
                    "doc": {"B": network.model_dump_json().encode()},
                    "version": attr_n(version + 1),
                    "content_hash": attr_s(digest),
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
                Key={"pk": attr_s("NETWORKS"), "sk": attr_s(network_id)},
                ConditionExpression="content_hash = :h",
                ExpressionAttributeValues={":h": attr_s(current or "")},
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
        for i in range(0, len(cvrs), BATCH_GET):
            items = self._batch_get(
                cvrs[i : i + BATCH_GET], "cvr, version, content_hash, curated, nets, hidden, doc"
            )
            for old in items:
                joined = changes[old["cvr"]["S"]]

                def member(_: Business, fresh: dict[str, Any], joined: bool = joined) -> Business:
                    """The fresh item as it is (register fields, curation), membership changed."""
                    b = business_from(fresh)
                    nets = (
                        set(b.networks) | {network_id} if joined else set(b.networks) - {network_id}
                    )
                    return b.model_copy(update={"networks": sorted(nets)})

                b = member(business_from(old), old)
                written = self._put_update(b, old, merge=member)
                self._account_visibility([(written, old)], widen=False)

    def upsert_municipalities(self, municipalities: Iterable[Municipality]) -> WriteResult:
        from chalicelib.domain.privacy import public_municipality

        result = WriteResult()
        for m in municipalities:
            doc = m.model_dump_json().encode()
            digest = content_digest(m)
            key = {"pk": attr_s("MUNICIPALITIES"), "sk": attr_s(m.kommunekode)}
            old = self._call(
                "get_item",
                TableName=self.table,
                Key=key,
                ProjectionExpression="#v, content_hash",
                ExpressionAttributeNames={"#v": "version"},
            ).get("Item")
            version = count_upsert(result, m.kommunekode, digest, stored_state(old))
            if version is None:
                continue
            feature = public_municipality(m)
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    **key,
                    "doc": {"B": doc},
                    "feature": attr_s(orjson.dumps(feature).decode()),
                    "version": attr_n(version),
                    "content_hash": attr_s(digest),
                },
            )
        return result
