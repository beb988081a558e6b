"""Paging cursors are opaque and refuse any edit."""

import pytest

from chalicelib.domain.errors import InvalidParameter
from chalicelib.web.cursor import Cursor, decode_cursor, selection_digest


def test_round_trip() -> None:
    sel = selection_digest("businesses", {"municipality": "376"})
    token = Cursor("12345678", 4990, sel).encode()
    assert decode_cursor(token, sel) == Cursor("12345678", 4990, sel)


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
    token = Cursor("12345678", 10, sel).encode()
    with pytest.raises(InvalidParameter) as err:
        decode_cursor(tamper(token), sel)
    assert err.value.parameter == "cursor"


def test_edited_payload_with_old_signature_is_refused() -> None:
    import base64

    sel = selection_digest("businesses", {})
    token = Cursor("12345678", 10, sel).encode()
    payload, sig = token.split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).replace(b"1234", b"9999")
    forged = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() + "." + sig
    with pytest.raises(InvalidParameter):
        decode_cursor(forged, sel)


def test_cursor_of_another_selection_is_refused() -> None:
    token = Cursor("12345678", 10, selection_digest("businesses", {"status": "active"})).encode()
    with pytest.raises(InvalidParameter):
        decode_cursor(token, selection_digest("businesses", {"status": "ceased"}))
