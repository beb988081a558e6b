"""Shared fixtures and the rings of the suite.

Rings (markers, set here from where a test lives and what it uses):

* the fast ring (`make test`, neither marker): unit tests, the store contract on SQLite and on
  DynamoDB (dynalite, which indexes GSIs, so a Query costs what its page costs), the API
  in-process through the Chalice app, intake against its local stand-in servers;
* `e2e` (`make test-e2e`): the real `mikrokort serve` over TCP, GDAL, OWSLib, ogctests,
  schemathesis, Chromium, and the `mikrokort` commands as commands;
* `aws` (`make test-aws`): what needs AWS's own semantics, on moto's wire-protocol server:
  S3, SSM and Secrets Manager, conditional writes on DynamoDB, the infra functions under their
  IAM policies, the operations the app's own boto3 client sends.

One demo store per adapter per session is seeded in-process by the code `mikrokort seed --demo`
runs, and shared by the API tests (in-process) and the e2e server.
"""

from __future__ import annotations

import contextlib
import io
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

if TYPE_CHECKING:
    from chalicelib.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
BIN = Path(sys.executable).parent
WIDGET_DIST = ROOT / "widget" / "dist"
DYNALITE = ROOT / "tests" / ".dynalite" / "node_modules" / ".bin" / "dynalite"

ADAPTERS = ["sqlite", "dynamodb"]
# Demo sizes: enough for several pages at the largest limits on SQLite; DynamoDB's demo is a
# small sample (writing it costs most of its fixture's time).
DEMO_COUNT = {"sqlite": 5000, "dynamodb": 1200}

# -- rings --------------------------------------------------------------------------------------

# A test using one of these fixtures talks to the real server or the browser: e2e.
E2E_FIXTURES = {"server", "browser", "visit"}
# A test using one of these needs moto: `aws_env` by name (a test of AWS behaviour itself; the
# adapters parametrized by ADAPTERS ask for it only on DynamoDB, at run time), the app's boto3
# client on moto (the no-Scan count), the functions deployed under their IAM policies.
AWS_FIXTURES = {"aws_env", "moto_endpoint", "dynamo_app", "deployed_dev"}
# Parameters that select S3 (moto) instead of a local folder.
AWS_PARAMS = {("blobs", "s3"), ("kind", "s3")}
# Store contract tests of conditional writes: on DynamoDB they run against moto.
AWS_ON_DYNAMODB = {
    "test_curation_with_a_stale_version_is_refused",
    "test_two_writers_racing_lose_no_update",
    "test_conditional_network_writes",
}
# Tests that run a `mikrokort` command as a subprocess on a store built for the purpose, long
# enough that a SIGKILL lands midway: the commands as commands, in the e2e ring.
E2E_TESTS = {"test_a_killed_snapshot_publishes_nothing_and_a_rerun_completes"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--dynamodb-server",
        choices=("dynalite", "moto"),
        default="dynalite",
        help="the local DynamoDB server behind the `dynamodb` adapter (the aws ring: moto)",
    )


def _ring(item: pytest.Item) -> str | None:
    """`e2e`, `aws` or None (the fast ring) for one collected test."""
    path = Path(str(item.path)).relative_to(ROOT / "tests").parts
    names = set(getattr(item, "fixturenames", ()))
    params = getattr(getattr(item, "callspec", None), "params", {})
    name = getattr(item, "originalname", item.name)
    if path[0] == "aws" or names & AWS_FIXTURES:
        return "aws"
    if any(params.get(k) == v for k, v in AWS_PARAMS):
        return "aws"
    if name in AWS_ON_DYNAMODB and "dynamodb" in params.values():
        return "aws"
    if path[0] == "e2e" or names & E2E_FIXTURES or name in E2E_TESTS:
        return "e2e"
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by these markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        ring = _ring(item)
        if ring is not None:
            item.add_marker(getattr(pytest.mark, ring))


# -- local AWS stand-ins --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dynalite_endpoint() -> Iterator[str]:
    """dynalite (npm, installed by `make test` under tests/.dynalite/) on 127.0.0.1, in memory.
    Tables are ACTIVE at once: boto3's table_exists waiter would otherwise poll for 20 s."""
    if not DYNALITE.exists():
        pytest.fail(f"{DYNALITE} is missing: `make test` installs it (npm, dynalite@4.0.0)")
    port = free_port()
    instant = ["--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"]
    proc = subprocess.Popen(
        [str(DYNALITE), "--host", "127.0.0.1", "--port", str(port), *instant],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening" not in line.lower():
        proc.kill()
        pytest.fail(f"dynalite did not start: {line} {proc.stderr.read() if proc.stderr else ''}")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A DynamoDB/S3/SSM/Secrets Manager wire-protocol server (moto) on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="session")
def dynamodb_endpoint(request: pytest.FixtureRequest) -> str:
    """The DynamoDB server of this run: dynalite, or moto with `--dynamodb-server=moto`."""
    if request.config.getoption("--dynamodb-server") == "moto":
        return request.getfixturevalue("moto_endpoint")
    return request.getfixturevalue("dynalite_endpoint")


@pytest.fixture(scope="session")
def aws_env(dynamodb_endpoint: str, moto_endpoint: str) -> Iterator[dict[str, str]]:
    """Environment that points boto3 at the local servers, also set in this process: DynamoDB
    at this run's DynamoDB server, S3, SSM and Secrets Manager at moto."""
    env = {
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
        "AWS_ENDPOINT_URL_S3": moto_endpoint,
        "AWS_ENDPOINT_URL_SSM": moto_endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-north-1",
    }
    with environ_set(env):
        yield env


@contextlib.contextmanager
def environ_set(env: Mapping[str, str]) -> Iterator[None]:
    """These variables set in this process for a while (the code under test reads the
    environment through Settings.from_env and boto3), then back as they were."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def store_url(adapter: str, tmp: Path) -> str:
    """A fresh store of this adapter: a file under `tmp`, or a table of its own."""
    if adapter == "sqlite":
        return f"sqlite:///{tmp / 'mikrokort.db'}"
    return f"dynamodb://mikrokort-{uuid.uuid4().hex[:10]}"


def fresh_store_url(request: pytest.FixtureRequest, adapter: str, tmp: Path) -> str:
    """`store_url`, with boto3 pointed at the local servers first when the adapter needs them."""
    if adapter == "dynamodb":
        request.getfixturevalue("aws_env")
    return store_url(adapter, tmp)


def fresh_store(request: pytest.FixtureRequest, adapter: str, tmp: Path) -> Store:
    """A new, empty store of this adapter, created as `mikrokort init` creates it."""
    from chalicelib.store import open_store

    store = open_store(fresh_store_url(request, adapter, tmp))
    store.create_table()
    return store


# -- the `mikrokort` command, in-process ----------------------------------------------------


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


def run_cli(env: Mapping[str, str], *args: str) -> CliResult:
    """`mikrokort ARGS` in this process: the command's own code, with `env` as the process
    environment for the call (the command reads its settings from there)."""
    from chalicelib.cli import main

    out, err = io.StringIO(), io.StringIO()
    with (
        mock.patch.dict(os.environ, dict(env), clear=True),
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        code = main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


def cli(env: Mapping[str, str], *args: str) -> str:
    """`run_cli` that must succeed; its standard output."""
    done = run_cli(env, *args)
    assert done.code == 0, done.stderr
    return done.stdout.strip()


# -- the seeded demo --------------------------------------------------------------------------


class DemoStores:
    """The session's demo stores, one per adapter, each seeded once on first use by the code
    `mikrokort init` and `mikrokort seed --demo` run (the demo snapshot included)."""

    def __init__(self, request: pytest.FixtureRequest, folders: pytest.TempPathFactory) -> None:
        self._request = request
        self._folders = folders
        self._envs: dict[str, dict[str, str]] = {}

    def env(self, adapter: str) -> dict[str, str]:
        if adapter not in self._envs:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MIKROKORT_")}
            if adapter == "dynamodb":
                env.update(self._request.getfixturevalue("aws_env"))
            folder = self._folders.mktemp(f"demo-{adapter}")
            env["MIKROKORT_STORE"] = store_url(adapter, folder)
            env["MIKROKORT_BLOBS"] = f"file:///{folder / 'blobs'}"
            cli(env, "init")
            cli(env, "seed", "--demo", "--count", str(DEMO_COUNT[adapter]))
            self._envs[adapter] = env
        return self._envs[adapter]


@pytest.fixture(scope="session")
def demo_stores(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> DemoStores:
    return DemoStores(request, tmp_path_factory)


@pytest.fixture(scope="session", params=ADAPTERS)
def demo_env(request: pytest.FixtureRequest, demo_stores: DemoStores) -> dict[str, str]:
    """Environment of the seeded demo store of one adapter."""
    return demo_stores.env(request.param)


@pytest.fixture(scope="session")
def demo_store(demo_env: dict[str, str]):
    from chalicelib.store import open_store

    store = open_store(demo_env["MIKROKORT_STORE"])
    yield store
    store.close()


# -- the API in-process ---------------------------------------------------------------------


class AppTransport(BaseAdapter):
    """A `requests` transport that answers in this process, through Chalice's local gateway
    (what `chalice.test.Client` and `mikrokort serve` use), so API tests read like HTTP tests
    at the cost of a function call. Each site is a host name with its own settings; the app is
    configured for the site a request names."""

    def __init__(self) -> None:
        super().__init__()
        from chalice.config import Config
        from chalice.local import LocalGateway

        import app

        self._app = app
        self._gateway = LocalGateway(app.app, Config.create(lambda_timeout=30))
        self._sites: dict[str, object] = {}

    def add(self, name: str, env: Mapping[str, str]) -> str:
        """A site for the settings `env` gives; its base URL."""
        from chalicelib.config import Settings

        host = f"{name}.mikrokort.test"
        self._sites[host] = Settings.from_env(env)
        return f"http://{host}"

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: object
    ) -> requests.Response:
        from chalice.local import LocalGatewayException

        url = urlsplit(request.url or "")
        settings = self._sites[url.netloc]
        if self._app.services().settings != settings:
            self._app.configure(settings)  # type: ignore[arg-type]
        headers = {"Host": url.netloc, **dict(request.headers)}
        body = request.body.encode() if isinstance(request.body, str) else request.body
        path = url.path + (f"?{url.query}" if url.query else "")
        try:
            answer = self._gateway.handle_request(
                method=request.method or "GET", path=path, headers=headers, body=body
            )
            status = answer["statusCode"]
            out = {**answer["headers"], **answer.get("multiValueHeaders", {})}
            content = answer.get("body") or b""
            if answer.get("isBase64Encoded"):
                import base64

                content = base64.b64decode(content)
        except LocalGatewayException as exc:
            status, out, content = exc.CODE, dict(exc.headers), exc.body or b""
        if isinstance(content, str):
            content = content.encode()
        r = requests.Response()
        r.status_code = status
        r.headers = CaseInsensitiveDict(out)
        r.headers.setdefault("Content-Type", "application/json")
        r.headers["Content-Length"] = str(len(content))
        r._content = content
        r._content_consumed = True
        r.raw = io.BytesIO(content)
        r.encoding = requests.utils.get_encoding_from_headers(r.headers)
        r.url = request.url or ""
        r.request = request
        r.reason = ""
        return r

    def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def app_transport() -> Iterator[AppTransport]:
    transport = AppTransport()
    yield transport
    import app

    app.configure()


@pytest.fixture(scope="session")
def http(app_transport: AppTransport) -> Iterator[requests.Session]:
    """A session for real servers and for the in-process sites (`*.mikrokort.test`)."""
    with requests.Session() as s:
        s.mount("http://", _Dispatch(app_transport, s.get_adapter("http://")))
        yield s


class _Dispatch(BaseAdapter):
    """In-process sites to the app, every other URL over the network."""

    def __init__(self, app: AppTransport, network: BaseAdapter) -> None:
        super().__init__()
        self._app, self._network = app, network

    def send(self, request: requests.PreparedRequest, **kwargs: object) -> requests.Response:  # type: ignore[override]
        host = urlsplit(request.url or "").hostname or ""
        if host.endswith(".mikrokort.test"):
            return self._app.send(request, **kwargs)
        return self._network.send(request, **kwargs)  # type: ignore[arg-type]

    def close(self) -> None:
        self._network.close()


@pytest.fixture(scope="session")
def api(demo_env: dict[str, str], app_transport: AppTransport) -> str:
    """Base URL of the app in-process on the seeded demo store (use with `http`)."""
    adapter = "sqlite" if demo_env["MIKROKORT_STORE"].startswith("sqlite") else "dynamodb"
    return app_transport.add(f"demo-{adapter}", demo_env)


@pytest.fixture(scope="session")
def built_widget() -> Path:
    """The built files; built here (as `make widget` does) when missing."""
    if not (WIDGET_DIST / "mikrokort.js").exists() or not (WIDGET_DIST / "mikrokort.css").exists():
        done = subprocess.run(
            ["make", "-s", "widget"], cwd=ROOT, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == 0, f"widget build failed: {done.stdout}{done.stderr}"
    return WIDGET_DIST


# -- the real server ------------------------------------------------------------------------


def start_server(
    env: dict[str, str], exe: Path = BIN / "mikrokort", cwd: Path | None = None
) -> tuple[subprocess.Popen[str], str]:
    """`mikrokort serve` on a free port; the process and its base URL once it answers (`exe`:
    another installation's command, run in `cwd`)."""
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", "0", "--quiet"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving on" not in line:
        proc.kill()
        raise RuntimeError(
            f"server did not start: {line} {proc.stderr.read() if proc.stderr else ''}"
        )
    url = line.rsplit(" ", 1)[-1].strip().rstrip("/")
    for _ in range(50):
        try:
            if requests.get(url + "/conformance", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    return proc, url


@pytest.fixture(scope="session")
def server(demo_env: dict[str, str]) -> Iterator[str]:
    """Base URL of `mikrokort serve` running on the seeded demo store (the e2e ring)."""
    proc, url = start_server(demo_env)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


def walk(http: requests.Session, url: str, **params: object) -> list[dict]:
    """Every page of an items request, following `next` links; returns the page documents."""
    pages = []
    r = http.get(url, params=params or None, timeout=30)
    while True:
        assert r.status_code == 200, r.text
        doc = r.json()
        pages.append(doc)
        nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            return pages
        r = http.get(nxt[0], timeout=30)


# -- the embedded server's WSGI app, called in-process -----------------------------------------


def wsgi_call(
    app: Any,
    method: str,
    path: str,
    query: str = "",
    body: bytes = b"",
    *,
    client: str = "192.0.2.7",
    **headers: str,
) -> dict[str, Any]:
    """One request straight into a WSGI app, as waitress hands it over (PATH_INFO decoded,
    as latin-1 text of its UTF-8 bytes); header names as keywords, e.g. X_API_KEY="..."."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "REMOTE_ADDR": client,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)) if body else "",
    }
    for name, value in headers.items():
        key = name.upper()
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    out: dict[str, Any] = {}

    def start_response(status: str, hdrs: list[tuple[str, str]]) -> None:
        out["status"] = int(status.split()[0])
        out["headers"] = dict(hdrs)

    out["body"] = b"".join(app(environ, start_response))
    return out
