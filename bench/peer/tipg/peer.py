"""tipg (OGC API Features + Tiles) on PostGIS as a benchmark peer. Stdlib only.

The benchmark runs on the project's venv; tipg, uvicorn and asyncpg live only in
bench/peer/tipg/.venv (made by setup.sh). The database side is driven with Debian's
PostgreSQL 15 binaries (initdb, pg_ctl, psql) as subprocesses.

    from peer import TipgPeer            # with bench/peer/tipg on sys.path
    with TipgPeer(Path("/tmp/tipg-work"), Path("/tmp/p1m.csv")) as peer:
        base = peer.base_url              # http://127.0.0.1:PORT
        items = peer.features_url         # .../collections/public.businesses/items
        tile = peer.tile_url_template     # .../tiles/WebMercatorQuad/{z}/{x}/{y}

start():
  * a throwaway cluster in WORKDIR/pg/data (initdb once; reused on later starts),
  * postgres on a free 127.0.0.1 port, unix socket in WORKDIR/pg/sock,
  * database `bench`: extension postgis, table businesses(id text primary key, name text,
    municipality text, industry_code text, geom geometry(Point,4326)) from the CSV
    (header id,name,lon,lat,municipality,industry_code), GIST index on geom, VACUUM ANALYZE.
    The load is skipped when WORKDIR/loaded.json records the same CSV (path, size, mtime),
  * tipg (`uvicorn tipg.main:app`, one process) on 127.0.0.1, until GET /collections lists
    public.businesses.
stop(): stops tipg, then the cluster (pg_ctl stop -m fast). The data stays for the next start.

When run as root (as here), postgres runs as the OS user `postgres` (initdb and postgres
refuse root); WORKDIR must then be reachable by that user (e.g. under /tmp).

`python3 peer.py --workdir DIR --csv FILE [--port N]` starts the peer, prints the URLs and
serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE / ".venv" / "bin" / "python"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
DB_NAME = "bench"
DB_USER = "postgres"
TABLE = "businesses"
COLLECTION_ID = f"public.{TABLE}"
TMS = "WebMercatorQuad"
REQUIRED_COLUMNS = ("id", "name", "lon", "lat", "municipality", "industry_code")
STAMP_VERSION = 1  # bump when the table layout or load changes, to force a reload

# tipg settings (tipg/settings.py, 1.6.1). Values left at tipg's defaults are listed for the
# record: TIPG_DEFAULT_FEATURES_LIMIT=10, TIPG_MAX_FEATURES_PER_QUERY=10000 (items `limit`
# above it is HTTP 422), TIPG_MAX_FEATURES_PER_TILE=10000 (tile: ORDER BY id LIMIT 10000),
# TIPG_TILE_RESOLUTION=4096, TIPG_TILE_BUFFER=256, TIPG_TILE_CLIP=true,
# TIPG_DEFAULT_TMS=WebMercatorQuad, TIPG_DEFAULT_MINZOOM=0, TIPG_DEFAULT_MAXZOOM=22.
TIPG_ENV = {
    "TIPG_DB_SCHEMAS": json.dumps(["public"]),
    "TIPG_DB_TABLES": json.dumps([COLLECTION_ID]),
    "TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS": json.dumps(
        ["public"]
    ),  # no PostGIS functions as collections
    "TIPG_DB_ONLY_SPATIAL_TABLES": "true",
    # The MVT layer is called `businesses` (as Mikrokort's) instead of tipg's "default".
    "TIPG_SET_MVT_LAYERNAME": "true",
    # tipg re-reads the whole catalog inside a request every catalog_ttl seconds (default 300);
    # 0 turns that middleware off so no benchmark request pays for it.
    "TIPG_CATALOG_TTL": "0",
    "TIPG_DEBUG": "false",
    "TIPG_ADD_TILES_VIEWER": "false",
    # one pool per process; a single uvicorn worker gets tipg's default pool size
    "DB_MIN_CONN_SIZE": "1",
    "DB_MAX_CONN_SIZE": "10",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class TipgPeer:
    """tipg + a throwaway PostGIS cluster serving the CSV's points. See the module docstring."""

    def __init__(
        self,
        workdir: Path,
        csv_path: Path,
        port: int | None = None,
        *,
        tipg_env: dict[str, str] | None = None,
        pg_settings: dict[str, str] | None = None,
        timeout: float = 120.0,
    ):
        self.workdir = Path(workdir).resolve()
        self.csv_path = Path(csv_path).resolve()
        self.port = port
        self.tipg_env = dict(tipg_env or {})
        # Throwaway cluster: no fsync (loads faster; reads are unaffected). Anything else stays
        # at PostgreSQL's defaults (shared_buffers 128MB, jit on, ...) unless given here.
        self.pg_settings = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        self.pg_settings.update(pg_settings or {})
        self.timeout = timeout
        self.pg_dir = self.workdir / "pg"
        self.pg_data = self.pg_dir / "data"
        self.sock_dir = self.pg_dir / "sock"
        self.pg_log = self.pg_dir / "postgres.log"
        self.stamp_file = self.workdir / "loaded.json"
        self.tipg_log = self.workdir / "tipg.log"
        self.pg_port: int | None = None
        self.base_url: str | None = None
        self.load_seconds: float | None = None  # None when the loaded table was reused
        self.rows: int | None = None
        self._tipg: subprocess.Popen | None = None
        self._pg_started = False
        self._short_sock: str | None = None
        self._as_postgres = os.geteuid() == 0

    # --- public API ------------------------------------------------------------------------
    @property
    def features_url(self) -> str:
        return f"{self._base()}/collections/{COLLECTION_ID}/items"

    @property
    def tile_url_template(self) -> str:
        return f"{self._base()}/collections/{COLLECTION_ID}/tiles/{TMS}/{{z}}/{{x}}/{{y}}"

    @property
    def collection_id(self) -> str:
        return COLLECTION_ID

    @property
    def tile_layer(self) -> str:
        return TABLE

    def start(self) -> str:
        if self.base_url:
            return self.base_url
        if not VENV_PYTHON.exists():
            raise RuntimeError(f"{VENV_PYTHON} missing: run bash {HERE / 'setup.sh'}")
        if not self.csv_path.is_file():
            raise FileNotFoundError(self.csv_path)
        self.workdir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
            self._start_postgres()
            self._ensure_loaded()
            self._start_tipg()
        except BaseException:
            self.stop()
            raise
        return self.base_url  # type: ignore[return-value]

    def stop(self) -> None:
        proc, self._tipg = self._tipg, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.base_url = None
        if self._pg_started:
            self._pg_started = False
            self._pg(["pg_ctl", "stop", "-D", str(self.pg_data), "-m", "fast", "-w"], check=False)
        if self._short_sock:
            shutil.rmtree(self._short_sock, ignore_errors=True)
            self._short_sock = None

    def __enter__(self) -> TipgPeer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- PostgreSQL ------------------------------------------------------------------------
    def _base(self) -> str:
        if not self.base_url:
            raise RuntimeError("TipgPeer not started")
        return self.base_url

    def _pg(self, argv: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
        """Run a server-side PostgreSQL binary (as the postgres OS user when we are root)."""
        cmd = [str(PG_BIN / argv[0]), *argv[1:]]
        extra = (
            {"user": "postgres", "group": "postgres", "extra_groups": []}
            if self._as_postgres
            else {}
        )
        res = subprocess.run(cmd, capture_output=True, text=True, cwd="/", **extra, **kw)
        if check and res.returncode != 0:
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout}{res.stderr}"
            )
        return res

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            shutil.chown(path, "postgres", "postgres")
        path.chmod(0o700)

    def _client_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(
            PGHOST=self._sock(),
            PGPORT=str(self.pg_port),
            PGUSER=DB_USER,
            PGDATABASE=DB_NAME,
            PGCONNECT_TIMEOUT="10",
        )
        return env

    def _sock(self) -> str:
        return self._short_sock or str(self.sock_dir)

    def psql(self, sql: str, db: str = DB_NAME, **kw) -> str:
        """Run SQL through psql (ON_ERROR_STOP, tuples only, unaligned); return stdout."""
        res = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                db,
                "-f",
                "-",
            ],
            input=sql,
            capture_output=True,
            text=True,
            env=self._client_env(),
            **kw,
        )
        if res.returncode != 0:
            raise RuntimeError(f"psql failed ({res.returncode}):\n{res.stderr}\nSQL:\n{sql[:2000]}")
        return res.stdout

    def _start_postgres(self) -> None:
        self.workdir.chmod(self.workdir.stat().st_mode | 0o711)
        self._own(self.pg_dir)
        if self._as_postgres:
            probe = subprocess.run(
                ["test", "-w", str(self.pg_dir)], user="postgres", group="postgres", extra_groups=[]
            )
            if probe.returncode != 0:
                raise RuntimeError(
                    f"the postgres OS user cannot reach {self.pg_dir}; "
                    "use a workdir it can traverse (e.g. under /tmp)"
                )
        if not (self.pg_data / "PG_VERSION").exists():
            if self.pg_data.exists():
                shutil.rmtree(self.pg_data)
            self.stamp_file.unlink(missing_ok=True)
            self._pg(
                [
                    "initdb",
                    "-D",
                    str(self.pg_data),
                    "-U",
                    DB_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-instructions",
                ]
            )
        self._own(self.sock_dir)
        # A server left running by an earlier process that died: stop it (its port is unknown).
        if self._pg(["pg_ctl", "status", "-D", str(self.pg_data)], check=False).returncode == 0:
            self._pg(["pg_ctl", "stop", "-D", str(self.pg_data), "-m", "fast", "-w"], check=False)
        self.pg_port = free_port()
        if len(f"{self.sock_dir}/.s.PGSQL.{self.pg_port}") > 100:  # sun_path is 108 bytes
            self._short_sock = tempfile.mkdtemp(prefix="tipgpg-")
            if self._as_postgres:
                shutil.chown(self._short_sock, "postgres", "postgres")
        opts = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.pg_port),
            "unix_socket_directories": self._sock(),
            **self.pg_settings,
        }
        o = " ".join(f"-c {k}={v}" for k, v in opts.items())
        if self._as_postgres:
            self.pg_log.touch()
            shutil.chown(self.pg_log, "postgres", "postgres")
        self._pg(
            [
                "pg_ctl",
                "start",
                "-D",
                str(self.pg_data),
                "-l",
                str(self.pg_log),
                "-o",
                o,
                "-w",
                "-t",
                str(int(self.timeout)),
            ]
        )
        self._pg_started = True
        if (
            self.psql(
                f"SELECT 1 FROM pg_database WHERE datname = {_sql_literal(DB_NAME)}", db="postgres"
            ).strip()
            != "1"
        ):
            self.psql(f"CREATE DATABASE {_ident(DB_NAME)}", db="postgres")

    def _csv_key(self) -> dict:
        st = self.csv_path.stat()
        return {
            "v": STAMP_VERSION,
            "csv": str(self.csv_path),
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
        }

    def _ensure_loaded(self) -> None:
        key = self._csv_key()
        try:
            stamp = json.loads(self.stamp_file.read_text())
        except (OSError, ValueError):
            stamp = None
        if stamp and all(stamp.get(k) == v for k, v in key.items()):
            present = self.psql(
                "SELECT count(*) FROM pg_class "
                f"WHERE relname = {_sql_literal(TABLE)} AND relkind = 'r'"
            )
            if present.strip() == "1":
                self.rows = stamp.get("rows")
                self.load_seconds = None
                return
        self.stamp_file.unlink(missing_ok=True)
        t0 = time.perf_counter()
        self._load()
        self.load_seconds = time.perf_counter() - t0
        self.rows = int(self.psql(f"SELECT count(*) FROM {TABLE}").strip())
        self.stamp_file.write_text(
            json.dumps({**key, "rows": self.rows, "load_seconds": round(self.load_seconds, 2)})
        )

    def _load(self) -> None:
        with open(self.csv_path, newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{self.csv_path}: header lacks {missing} (has {header})")
        cols = ", ".join(_ident(c) for c in header)
        staging = ", ".join(f"{_ident(c)} text" for c in header)
        sql = f"""
CREATE EXTENSION IF NOT EXISTS postgis;
BEGIN;
DROP TABLE IF EXISTS {TABLE};
CREATE TEMP TABLE csv_rows ({staging});
\\copy csv_rows ({cols}) FROM {_sql_literal(str(self.csv_path))} WITH (FORMAT csv, HEADER true)
CREATE TABLE {TABLE} (
    id text NOT NULL,
    name text,
    municipality text,
    industry_code text,
    geom geometry(Point, 4326)
);
INSERT INTO {TABLE} (id, name, municipality, industry_code, geom)
    SELECT id, name, municipality, industry_code,
           ST_SetSRID(ST_MakePoint(lon::float8, lat::float8), 4326)
    FROM csv_rows;
ALTER TABLE {TABLE} ADD PRIMARY KEY (id);
CREATE INDEX {TABLE}_geom_idx ON {TABLE} USING gist (geom);
COMMIT;
VACUUM (ANALYZE) {TABLE};
CHECKPOINT;
"""
        self.psql(sql)

    # --- tipg ------------------------------------------------------------------------------
    def _start_tipg(self) -> None:
        port = self.port or free_port()
        env = {
            k: v
            for k, v in os.environ.items()
            if not (
                k.startswith("TIPG_")
                or k.startswith("PG")
                or k.startswith("POSTGRES_")
                or k in ("DATABASE_URL", "VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
            )
        }
        env.update(TIPG_ENV)
        env["DATABASE_URL"] = f"postgresql://{DB_USER}@127.0.0.1:{self.pg_port}/{DB_NAME}"
        env.update(self.tipg_env)
        with open(self.tipg_log, "ab") as log:  # the child keeps its own copy of the handle
            # cwd = workdir: tipg's settings also read a `.env` file from the working directory.
            self._tipg = subprocess.Popen(
                [
                    str(VENV_PYTHON),
                    "-m",
                    "uvicorn",
                    "tipg.main:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    "1",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.timeout
        last = ""
        while time.monotonic() < deadline:
            if self._tipg.poll() is not None:
                raise RuntimeError(f"tipg exited ({self._tipg.returncode}):\n{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{base}/collections?f=json", timeout=5) as r:
                    ids = [c.get("id") for c in json.load(r).get("collections", [])]
                if COLLECTION_ID in ids:
                    self.base_url = base
                    return
                last = f"collections {ids} lack {COLLECTION_ID}"
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as e:
                last = repr(e)
            time.sleep(0.2)
        raise RuntimeError(
            f"tipg did not answer at {base}/collections ({last}):\n{self._log_tail()}"
        )

    def _log_tail(self, n: int = 4000) -> str:
        try:
            return self.tipg_log.read_text(errors="replace")[-n:]
        except OSError:
            return ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--port", type=int)
    args = ap.parse_args()
    peer = TipgPeer(args.workdir, args.csv, args.port)
    base = peer.start()
    load = "reused" if peer.load_seconds is None else f"{peer.load_seconds:.1f} s"
    print(f"PEER READY {base} rows={peer.rows} load={load}", flush=True)
    print(f"items {peer.features_url}\ntiles {peer.tile_url_template}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        peer.stop()


if __name__ == "__main__":
    main()
