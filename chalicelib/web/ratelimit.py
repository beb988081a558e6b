"""A per-client rate limit for the routes whose cost grows with their parameters.

One token bucket per client address, shared by the limited routes (`Route.limited`): a client
may spend `burst` requests at once and regains `per_minute` a minute. The table of buckets is
bounded (least recently seen clients are forgotten first), so a flood of addresses costs a
fixed amount of memory. On AWS the same routes are limited by a WAF rate rule (infra/).

Behind a reverse proxy every request comes from the proxy's address unless the proxy is
configured as trusted (MIKROKORT_TRUSTED_PROXY); then waitress gives the client's address.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_clients: int = 50_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()  # one table for every server thread

    def take(self, client: str) -> float:
        """0 when the request may go ahead; otherwise the seconds until it may."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.pop(client, None)
            if bucket is None:
                bucket = _Bucket(self.burst, now)
            else:
                bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
                bucket.at = now
            self._buckets[client] = bucket  # most recently seen last
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0
            return math.ceil((1 - bucket.tokens) / self.rate) if self.rate > 0 else 3600.0

    def __len__(self) -> int:
        return len(self._buckets)
