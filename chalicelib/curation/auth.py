"""API keys for the write routes, and the audit log of every write.

A key is shown once when created (`mikrokort keys create`) and stored only as a SHA-256 hash
(the key carries 256 random bits, so a fast hash is safe; no password stretching is needed).
It is sent as `X-API-Key: mk_<id>_<secret>` (or `Authorization: Bearer ...`), looked up by its
id, and compared in constant time. Scopes: `networks:write` (a network coordinator: only the
networks named when the key was made, and never their hidden members), `admin` (everything:
every network, curation, moderation, municipality contacts, audit).

Audit entries of writes are `Record`s that the store writes in the transaction of the change,
from the state it read there: the log holds exactly the writes that landed, in their order.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.errors import Forbidden, InvalidParameter, NotFound, Unauthorized
from chalicelib.store.port import Record

if TYPE_CHECKING:
    from chalicelib.store import Store
    from chalicelib.web.http import HttpRequest

KEYS = "api_key"
AUDIT = "audit"
SCOPES = ("networks:write", "admin")
_NETWORK_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Caller:
    key_id: str
    name: str
    scopes: tuple[str, ...]
    networks: tuple[str, ...] = ()  # what a networks:write key may edit (an admin: anything)

    def label(self) -> str:
        return f"{self.name} ({self.key_id})"

    @property
    def is_admin(self) -> bool:
        return "admin" in self.scopes

    def may_edit(self, network_id: str) -> bool:
        return self.is_admin or network_id in self.networks

    def require_network(self, network_id: str) -> None:
        """403 unless this key may edit the network (named when the key was created)."""
        if not self.may_edit(network_id):
            raise Forbidden(f"this key may not edit network {network_id}")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    store: Store, name: str, scopes: list[str], networks: list[str] | None = None
) -> str:
    """A new key; the returned text is the only time the secret exists outside the caller.

    A `networks:write` key is bound to the networks it is made for: a coordinator's key must
    not open every other network (nor its hidden members) to them."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown or not scopes:
        raise InvalidParameter(
            f"scopes must be some of {', '.join(SCOPES)}, not {', '.join(unknown) or 'none'}",
            parameter="scope",
        )
    if not 1 <= len(name.strip()) <= 100:
        raise InvalidParameter("a key needs a name of 1 to 100 characters", parameter="name")
    networks = sorted(set(networks or []))
    bad = [n for n in networks if not (len(n) <= 80 and _NETWORK_ID.match(n))]
    if bad:
        raise InvalidParameter(f"not a network id: {', '.join(bad)}", parameter="network")
    if "admin" in scopes and networks:
        raise InvalidParameter("an admin key edits every network: give it no --network")
    if "admin" not in scopes and not networks:
        raise InvalidParameter(
            "a networks:write key needs the networks it may edit (--network ID)",
            parameter="network",
        )
    key_id = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    store.put_records(
        KEYS,
        {
            key_id: {
                "name": name.strip(),
                "scopes": sorted(set(scopes)),
                "networks": networks,
                "hash": _digest(secret),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
                "revoked": None,
            }
        },
    )
    return f"mk_{key_id}_{secret}"


def revoke_key(store: Store, key_id: str) -> None:
    doc = store.get_records(KEYS, [key_id]).get(key_id)
    if doc is None:
        raise NotFound(f"no key {key_id}")
    doc["revoked"] = datetime.now(UTC).isoformat(timespec="seconds")
    store.put_records(KEYS, {key_id: doc})


def list_keys(store: Store) -> list[tuple[str, dict[str, Any]]]:
    """Keys without their hashes."""
    return [
        (k, {f: v for f, v in doc.items() if f != "hash"})
        for k, doc in store.list_records(KEYS, limit=1000)
    ]


def authenticate(store: Store, req: HttpRequest, scope: str) -> Caller:
    """The caller behind the request's key: 401 without a valid key, 403 without the scope."""
    presented = req.header("x-api-key")
    if presented is None:
        auth = req.header("authorization") or ""
        if auth[:7].lower() == "bearer ":
            presented = auth[7:].strip()
    if not presented:
        raise Unauthorized("an API key is required: send it in the X-API-Key header")
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != "mk" or not parts[1] or not parts[2]:
        raise Unauthorized("the API key is not valid")
    doc = store.get_records(KEYS, [parts[1]]).get(parts[1])
    # compare even for an unknown id, so timing does not tell which ids exist
    expected = doc["hash"] if doc else _digest(secrets.token_urlsafe(32))
    if not hmac.compare_digest(_digest(parts[2]), expected) or doc is None:
        raise Unauthorized("the API key is not valid")
    if doc.get("revoked"):
        raise Unauthorized("the API key has been revoked")
    scopes = tuple(doc.get("scopes") or ())
    if scope not in scopes and "admin" not in scopes:
        raise Forbidden(f"this key may not do that: it needs the '{scope}' scope")
    return Caller(
        key_id=parts[1],
        name=doc.get("name", ""),
        scopes=scopes,
        networks=tuple(doc.get("networks") or ()),
    )


def audit_record(
    caller: Caller | str,
    action: str,
    target: str,
    shape: Callable[[Any], Any] = lambda state: state,
) -> Record:
    """The audit entry of a write, for the store to write with it: who, what, when, and the
    state before and after as the store read and wrote them (`shape` picks what to log of
    each, None staying None)."""
    who = caller.label() if isinstance(caller, Caller) else caller

    def build(before: Any, after: Any) -> dict[str, Any]:
        return {
            "who": who,
            "action": action,
            "target": target,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "before": None if before is None else shape(before),
            "after": None if after is None else shape(after),
        }

    return Record(kind=AUDIT, build=build)


def audit(
    store: Store, caller: Caller | str, action: str, target: str, before: Any, after: Any
) -> None:
    """Record a write: who, what, when, and the state before and after."""
    now = datetime.now(UTC)
    who = caller.label() if isinstance(caller, Caller) else caller
    key = f"{now.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}-{secrets.token_hex(3)}"
    store.put_records(
        AUDIT,
        {
            key: {
                "who": who,
                "action": action,
                "target": target,
                "at": now.isoformat(timespec="seconds"),
                "before": before,
                "after": after,
            }
        },
    )


def audit_log(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    return [doc for _, doc in store.list_records(AUDIT, limit=limit, newest_first=True)]
