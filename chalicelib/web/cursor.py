"""Opaque, tamper-evident paging cursors.

A cursor carries the keyset position (last id of the previous page), the numberMatched counted
on the first page, and a digest of the selection it belongs to, signed with HMAC. A cursor that
was edited, truncated or moved to another query is refused with a 400, never half-honoured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

import orjson

from chalicelib.domain.errors import InvalidParameter


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def selection_digest(collection: str, filters: dict[str, object]) -> str:
    raw = orjson.dumps([collection, filters], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


@dataclass(frozen=True)
class Cursor:
    after: str
    number_matched: int | None
    selection: str

    def encode(self, secret: bytes) -> str:
        """The signed token; `secret` is the deployment's cursor key (Settings.cursor_secret)."""
        payload = orjson.dumps({"a": self.after, "n": self.number_matched, "s": self.selection})
        sig = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
        return f"{_b64(payload)}.{_b64(sig)}"


def decode_cursor(token: str, selection: str, secret: bytes) -> Cursor:
    """Check and open a cursor for the given selection; any defect is a 400 on `cursor`."""
    bad = InvalidParameter(
        "the cursor is not valid for this request: follow the 'next' link as given",
        parameter="cursor",
    )
    try:
        payload_b64, sig_b64 = token.split(".")
        payload, sig = _unb64(payload_b64), _unb64(sig_b64)
    except ValueError:
        raise bad from None
    expected = hmac.new(secret, payload, hashlib.sha256).digest()[:16]
    if not hmac.compare_digest(sig, expected):
        raise bad
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise bad from None
    # Signed is not enough: a key can leak (or be the development default), so every field is
    # checked for its type and size before it reaches a store or a document.
    if not isinstance(doc, dict) or set(doc) != {"a", "n", "s"}:
        raise bad
    after, matched, sel = doc["a"], doc["n"], doc["s"]
    if not (isinstance(after, str) and 0 < len(after) <= 200 and after.isprintable()):
        raise bad
    if matched is not None and (
        isinstance(matched, bool) or not isinstance(matched, int) or not 0 <= matched < 2**53
    ):
        raise bad
    if sel != selection:
        raise bad
    return Cursor(after=after, number_matched=matched, selection=sel)
