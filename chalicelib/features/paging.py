"""The page size of the `next` links, for clients that cannot find a better one.

GDAL before 3.8 asks every collection for `limit=10` unless its user passes the PAGE_SIZE open
option: it never reads the page size the API document states, so an export of 5,000 businesses
takes 500 requests. GDAL 3.6 (Debian 12's) sends no User-Agent at all (seen on the wire: only
Host, Accept-Encoding and Accept); later versions send `GDAL/x.y.z`.

It follows the `next` link of each page as written, and OGC API - Features leaves that link to
the server (Part 1, 7.15.4: the server chooses how the next page is reached). So for this
client, the first page keeps the asked-for 10 and the `next` link asks for 1,000. That is done
for `limit=10` from a client without a User-Agent (browsers and the common HTTP libraries always
send one) or from `GDAL/` before 3.8; every other client, and any client with another limit,
gets its own limit back. The answer varies by User-Agent only when `limit=10`, and then says so
in `Vary`, so that a shared cache never gives GDAL's links to a browser.
"""

from __future__ import annotations

import re

from chalicelib.web.http import HttpRequest

GDAL_DEFAULT_LIMIT = "10"
GDAL_NEXT_LIMIT = "1000"  # the page QGIS picks from the API document; bytes may shorten it
_GDAL = re.compile(r"^GDAL/(\d+)\.(\d+)")
_FIRST_THAT_READS_THE_API = (3, 8)


def next_limit(req: HttpRequest, limit: str | None) -> str | None:
    """The `limit` the `next` link carries: the request's own, or 1,000 for a
    GDAL that asked for its built-in 10."""
    if limit != GDAL_DEFAULT_LIMIT:
        return limit
    agent = req.header("user-agent") or ""
    if not agent.strip():
        return GDAL_NEXT_LIMIT  # GDAL before 3.7 sends none
    found = _GDAL.match(agent)
    if found and (int(found[1]), int(found[2])) < _FIRST_THAT_READS_THE_API:
        return GDAL_NEXT_LIMIT
    return limit


def vary(limit: str | None) -> str:
    """The `Vary` of an items answer: `User-Agent` joins `Accept` when `next_limit` may
    depend on it."""
    return "Accept, User-Agent" if limit == GDAL_DEFAULT_LIMIT else "Accept"
