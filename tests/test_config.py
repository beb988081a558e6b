"""Configuration: places named as their standards say, and bad values refused clearly."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.blobs import BlobsUnavailable, open_blobs
from chalicelib.config import PROJECT_ROOT, Settings
from chalicelib.domain.errors import NotConfigured


def test_a_file_url_is_an_absolute_folder_as_rfc_8089_says(tmp_path: Path) -> None:
    url = f"file://{tmp_path}/blobs"  # file:///tmp/.../blobs
    settings = Settings.from_env({"MIKROKORT_BLOBS": url})
    open_blobs(settings.blobs_url).put("a/b.txt", b"x", "text/plain")
    assert (tmp_path / "blobs" / "a" / "b.txt").read_bytes() == b"x"
    assert not (PROJECT_ROOT / str(tmp_path).lstrip("/")).exists()
    open_blobs(f"file://localhost{tmp_path}/other").put("c.txt", b"y", "text/plain")
    assert (tmp_path / "other" / "c.txt").exists()


def test_plain_relative_paths_are_under_the_project_folder() -> None:
    assert Settings.from_env({}).blobs_url == str(PROJECT_ROOT / ".data" / "blobs")
    assert Settings.from_env({"MIKROKORT_BLOBS": "var/b"}).blobs_url == str(PROJECT_ROOT / "var/b")
    assert Settings.from_env({"MIKROKORT_BLOBS": "/srv/b"}).blobs_url == "/srv/b"


def test_sqlite_urls_keep_sqlalchemys_convention() -> None:
    rel = Settings.from_env({"MIKROKORT_STORE": "sqlite:///.data/x.db"}).store_url
    assert rel == f"sqlite:///{PROJECT_ROOT / '.data' / 'x.db'}"
    assert Settings.from_env({"MIKROKORT_STORE": "sqlite:////srv/x.db"}).store_url == (
        "sqlite:////srv/x.db"
    )


@pytest.mark.parametrize("url", ["file://elsewhere/x", "ftp://x/y", "file:relative"])
def test_an_unsupported_blobs_place_is_a_clear_error(url: str) -> None:
    with pytest.raises(BlobsUnavailable, match="not supported"):
        open_blobs(url)


def test_a_number_setting_that_is_not_a_number_is_named() -> None:
    with pytest.raises(NotConfigured, match="MIKROKORT_RATE_LIMIT"):
        Settings.from_env({"MIKROKORT_RATE_LIMIT": "١٢٠"})
