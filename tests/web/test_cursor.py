"""Paging cursors are opaque and refuse any edit."""

import pytest

from chalicelib.domain.errors import InvalidParameter
from chalicelib.web.cursor import Cursor, decode_cursor, selection_digest

KEY = b"a deployment's cursor key"


def test_round_trip() -> None:
    sel = selection_digest("businesses", {"municipality": "376"})
    token = Cursor("12345678", 4990, sel).encode(KEY)
    assert decode_cursor(token, sel, KEY) == Cursor("12345678", 4990, sel)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-2],
        lambda t: t.replace(".", ""),
        lambda t: "x" + t,
        lambda t: t.split(".")[0] + ".AAAAAAAAAAAAAAAAAAAAAA",
        lambda t: "not-a-cursor",
        lambda t: "",
    ],
)
def test_tampered_cursor_is_refused(tamper) -> None:
    sel = selection_digest("businesses", {})
    token = Cursor("12345678", 10, sel).encode(KEY)
    with pytest.raises(InvalidParameter) as err:
        decode_cursor(tamper(token), sel, KEY)
    assert err.value.parameter == "cursor"


def test_edited_payload_with_old_signature_is_refused() -> None:
    import base64

    sel = selection_digest("businesses", {})
    token = Cursor("12345678", 10, sel).encode(KEY)
    payload, sig = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"1234", b"9999")
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + sig
    with pytest.raises(InvalidParameter):
        decode_cursor(forged, sel, KEY)


def test_cursor_of_another_selection_is_refused() -> None:
    token = Cursor("12345678", 10, selection_digest("businesses", {"status": "active"})).encode(KEY)
    with pytest.raises(InvalidParameter):
        decode_cursor(token, selection_digest("businesses", {"status": "ceased"}), KEY)


def test_a_cursor_signed_with_another_key_is_refused() -> None:
    sel = selection_digest("businesses", {})
    token = Cursor("12345678", 10, sel).encode(b"another deployment")
    with pytest.raises(InvalidParameter):
        decode_cursor(token, sel, KEY)


def _signed(doc: object) -> str:
    """A cursor as someone holding the key could make it, with any content."""
    import base64
    import hashlib
    import hmac

    import orjson

    payload = orjson.dumps(doc)
    sig = hmac.new(KEY, payload, hashlib.sha256).digest()[:16]

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return f"{b64(payload)}.{b64(sig)}"


@pytest.mark.parametrize(
    "doc",
    [
        {"a": "12345678", "n": "4990", "s": "SEL"},
        {"a": "12345678", "n": {"x": 1}, "s": "SEL"},
        {"a": "12345678", "n": True, "s": "SEL"},
        {"a": "12345678", "n": -1, "s": "SEL"},
        {"a": 12345678, "n": 1, "s": "SEL"},
        {"a": "", "n": 1, "s": "SEL"},
        {"a": "x" * 201, "n": 1, "s": "SEL"},
        {"a": "1\n2", "n": 1, "s": "SEL"},
        {"a": "12345678", "n": 1, "s": "SEL", "extra": 1},
        ["12345678", 1, "SEL"],
        "text",
    ],
)
def test_a_signed_cursor_with_wrong_fields_is_refused(doc: object) -> None:
    sel = selection_digest("businesses", {})
    if isinstance(doc, dict):
        doc = {k: (sel if v == "SEL" else v) for k, v in doc.items()}
    with pytest.raises(InvalidParameter) as err:
        decode_cursor(_signed(doc), sel, KEY)
    assert err.value.parameter == "cursor"


def test_a_signed_cursor_with_right_fields_is_read() -> None:
    sel = selection_digest("businesses", {})
    assert decode_cursor(_signed({"a": "1", "n": None, "s": sel}), sel, KEY).number_matched is None
