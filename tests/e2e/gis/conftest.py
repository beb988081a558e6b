"""How the GIS acceptance tests run their clients: QGIS through its own interpreter, GDAL's
command-line tools, and pyogrio (GDAL 3.12) in a child process of the venv, each with the
requests it sent recorded so a failure says what the client asked for."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
QGIS_PYTHON = "/usr/bin/python3"  # Debian's python3-qgis is built for this interpreter
QGIS_CORE = Path("/usr/lib/python3/dist-packages/qgis/core/__init__.py")
FETCH = re.compile(r"HTTP: Fetch\((\S+)\)")


def client_env() -> dict[str, str]:
    """The environment of a client process: no proxy for the local server, no venv paths
    (QGIS's interpreter must not see the venv's packages)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("CPL_")
    }
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


# -- QGIS ---------------------------------------------------------------------------------


@dataclass
class QgisRun:
    """One run of qgis_client.py: its JSON answer and the requests QGIS sent."""

    doc: dict[str, Any]

    @property
    def urls(self) -> list[str]:
        return self.doc.get("urls", [])

    @property
    def item_urls(self) -> list[str]:
        return [u for u in self.urls if "/items" in u]

    @property
    def ids(self) -> set[str]:
        return {str(f["attributes"]["id"]) for f in self.doc["features"]}

    def explain(self) -> str:
        return "QGIS sent:\n  " + "\n  ".join(self.urls) + f"\nerrors: {self.doc.get('errors')}"


def run_qgis(command: str, base: str, collection: str, *args: str, timeout: int = 300) -> QgisRun:
    if not Path(QGIS_PYTHON).exists() or not QGIS_CORE.exists():
        pytest.fail("QGIS's Python bindings are missing: scripts/install-system-deps.sh")
    done = subprocess.run(
        [
            QGIS_PYTHON,
            str(HERE / "qgis_client.py"),
            command,
            "--base",
            base,
            "--collection",
            collection,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=client_env(),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON from qgis_client.py: {done.stdout[-2000:]} {done.stderr[-2000:]}"
    return QgisRun(json.loads(lines[-1]))


# -- GDAL 3.6 command-line tools ------------------------------------------------------------


def gdal_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: `make test-e2e` installs Debian's gdal-bin")
    return path


@dataclass
class GdalRun:
    stdout: str
    stderr: str
    returncode: int
    urls: list[str] = field(default_factory=list)

    @property
    def item_urls(self) -> list[str]:
        return [u for u in self.urls if "/items" in u]

    def explain(self) -> str:
        errors = [line for line in self.stderr.splitlines() if line.startswith("ERROR")]
        return "GDAL sent:\n  " + "\n  ".join(self.urls[:40]) + f"\nerrors: {errors[:10]}"


def run_gdal(*argv: str, timeout: int = 300) -> GdalRun:
    """A GDAL command with `--debug on`, whose `HTTP: Fetch(url)` lines are the requests."""
    done = subprocess.run(
        [gdal_tool(argv[0]), *argv[1:], "--debug", "on"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=client_env(),
    )
    return GdalRun(done.stdout, done.stderr, done.returncode, FETCH.findall(done.stderr))


# -- pyogrio (GDAL 3.12) in a child process ---------------------------------------------------

_PYOGRIO = r"""
import json, sys
import pyogrio
args = json.loads(sys.argv[1])
kwargs = args.get("kwargs", {})
if "bbox" in kwargs:
    kwargs["bbox"] = tuple(kwargs["bbox"])
df = pyogrio.read_dataframe(args["source"], layer=args["layer"], **kwargs)
geoms = df.geometry if "geometry" in df else None
out = {
    "columns": [str(c) for c in df.columns],
    "crs": df.crs.to_string() if getattr(df, "crs", None) is not None else None,
    "count": len(df),
    "ids": [str(v) for v in df["id"]] if "id" in df else [],
    "points": [],
}
if geoms is not None and args.get("points"):
    out["points"] = [
        [str(i), g.x, g.y] if g is not None and g.geom_type == "Point" else [str(i), None, None]
        for i, g in zip(df["id"], geoms)
    ]
print(json.dumps(out))
"""


@dataclass
class PyogrioRun:
    doc: dict[str, Any]
    urls: list[str]

    @property
    def item_urls(self) -> list[str]:
        return [u for u in self.urls if "/items" in u]

    @property
    def ids(self) -> set[str]:
        return set(self.doc["ids"])

    def explain(self) -> str:
        return "GDAL (pyogrio) sent:\n  " + "\n  ".join(self.urls[:40])


def run_pyogrio(
    tmp_path: Path, source: str, layer: str, *, points: bool = False, **kwargs: Any
) -> PyogrioRun:
    """pyogrio.read_dataframe in a child process of the venv's interpreter, with GDAL's debug
    log (CPL_LOG) in a file: GDAL opens that log once per process, so one process per read."""
    log = tmp_path / f"cpl-{len(list(tmp_path.glob('cpl-*.log')))}.log"
    env = client_env()
    env.update(CPL_DEBUG="ON", CPL_LOG=str(log))
    arg = json.dumps({"source": source, "layer": layer, "kwargs": kwargs, "points": points})
    done = subprocess.run(
        [sys.executable, "-c", _PYOGRIO, arg],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    text = log.read_text(errors="replace") if log.exists() else ""
    urls = FETCH.findall(text)
    assert done.returncode == 0, done.stderr[-3000:] + "\nGDAL sent:\n  " + "\n  ".join(urls[:40])
    return PyogrioRun(json.loads(done.stdout.strip().splitlines()[-1]), urls)
