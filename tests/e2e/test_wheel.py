"""The built wheel is the whole product: installed alone (not editable, outside the project
folder) it initialises a store, seeds it and serves it."""

from __future__ import annotations

import os
import site
import subprocess
import sys
from pathlib import Path

import requests

from tests.conftest import start_server

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_wheel_installs_and_runs(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("mikrokort-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
    )
    # the dependencies from this environment's site-packages, without its editable project
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    env["MIKROKORT_STORE"] = f"sqlite:///{tmp_path / 'm.db'}"
    env["MIKROKORT_BLOBS"] = f"file://{tmp_path / 'blobs'}"
    exe = str(venv / "bin" / "mikrokort")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [exe, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
        )

    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import chalicelib; print(chalicelib.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(venv) in where and str(ROOT) not in where  # the installed copy, not the project
    assert run("--help").returncode == 0
    for verb in (["init"], ["seed", "--demo", "--count", "60"]):
        done = run(*verb)
        assert done.returncode == 0, done.stderr
    proc, url = start_server(env, Path(exe), cwd=tmp_path)
    try:
        assert requests.get(url + "/conformance", timeout=10).status_code == 200
        items = requests.get(url + "/collections/businesses/items?limit=5", timeout=10).json()
        assert items["numberReturned"] == 5
        towns = requests.get(url + "/collections/municipalities/items", timeout=10).json()
        assert {f["id"] for f in towns["features"]} >= {"0376", "0390"}
        assert requests.get(url + "/snapshots", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    # an installation that lost its boundary file says so in one line, never a traceback
    boundaries = Path(where.strip()).parent / "data" / "dk_kommuner_dagi2014_wgs84.geojson"
    assert boundaries.is_file()
    boundaries.unlink()
    env["MIKROKORT_STORE"] = f"sqlite:///{tmp_path / 'broken.db'}"
    done = run("init")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "dk_kommuner_dagi2014_wgs84.geojson" in done.stderr and "reinstall" in done.stderr
