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
