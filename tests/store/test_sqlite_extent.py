"""The SQLite extent is cached per process; a write by another process must not leave it stale."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from chalicelib.domain.models import Point
from chalicelib.store import open_store
from tests.conftest import ROOT
from tests.factories import business, network

# Writes as `mikrokort import` or a cron job would: another process, its own connection.
_WRITER = textwrap.dedent(
    """
    import sys

    from chalicelib.domain.models import Point
    from chalicelib.store import open_store
    from tests.factories import business

    store = open_store(sys.argv[1])
    store.upsert_businesses([business("10000012", location=Point(lon=12.3, lat=55.1))])
    store.close()
    """
)


def test_extent_follows_a_write_by_another_process(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mikrokort.db'}"
    store = open_store(url)
    store.upsert_businesses([business("10000004", location=Point(lon=11.87, lat=54.77))])
    assert store.extent("businesses").bbox == (11.87, 54.77, 11.87, 54.77)  # cached now

    subprocess.run([sys.executable, "-c", _WRITER, url], cwd=ROOT, check=True, timeout=60)

    assert store.extent("businesses").bbox == (11.87, 54.77, 12.3, 55.1)
    store.close()


def test_extent_follows_a_write_through_another_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'mikrokort.db'}"
    reader, writer = open_store(url), open_store(url)
    reader.upsert_networks([network()])
    before = reader.extent("network-meeting-places").bbox
    assert before == (11.87, 54.77, 11.87, 54.77)

    writer.upsert_networks([network("far-net", meeting_place=Point(lon=12.2, lat=55.0))])
    assert reader.extent("network-meeting-places").bbox == (11.87, 54.77, 12.2, 55.0)

    writer.upsert_businesses([business("10000004", location=Point(lon=11.9, lat=54.8))])
    assert reader.extent("businesses").bbox == (11.9, 54.8, 11.9, 54.8)
    reader.close()
    writer.close()
