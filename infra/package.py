"""Build the Lambda deployment package: `chalice package`, then bytecode, widget and checks.

    python -m infra.package [--stage dev] [--bundle-boto3]

1. A staging copy of the project: `app.py`, `chalicelib/` (with its reference data),
   `.chalice/config.json`, `infra/requirements-lambda.txt` as `requirements.txt`, and the
   widget's built files (`widget/dist/*`, when built) as `chalicelib/widget_dist/` (where
   `chalicelib/widget.py` looks for them in a Lambda package).
2. `chalice package --stage STAGE --merge-template ...` in it, run by this venv's Python
   (3.11, so the runtime is python3.11 and the wheels are the manylinux ones for it). A
   dependency chalice could not install for Lambda fails the build (chalice only warns).
3. The template chalice wrote must equal `infra/synth.py`'s for the stage (same code path).
4. The zip gets precompiled bytecode (`compileall`, unchecked-hash pycs, paths as
   `/var/task/...`): Lambda's code folder is read-only, so without them every cold start
   compiles every module again. Packages the Lambda runtime provides (boto3 and its
   dependencies) are dropped, and so are test suites of the dependencies.

Writes infra/build/deployment.zip and infra/build/package.json (sizes and contents).
Needs the network to PyPI (chalice downloads the Lambda wheels); takes about a minute.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "infra" / "build"
PACKAGE = BUILD / "deployment.zip"
MANIFEST = BUILD / "package.json"
WIDGET_DIST = ROOT / "widget" / "dist"
WIDGET_DEST = "chalicelib/widget_dist"  # where chalicelib/widget.py finds the built files in Lambda
LAMBDA_ROOT = "/var/task"  # where Lambda unpacks the package (paths in tracebacks)

# provided by the Lambda runtime (boto3 and what it depends on): never shipped twice
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
# never imported at run time
DROPPED_DIRS = {"tests", "testing", "__pycache__"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _top_level(name: str) -> str:
    """The distribution a zip entry belongs to (`numpy/x.py`, `numpy.libs/...`, dist-info)."""
    top = name.split("/", 1)[0]
    if top.endswith((".dist-info", ".data")):
        top = top.split("-", 1)[0].lower()
    top = top.removesuffix(".py").removesuffix(".libs")
    return {"python_dateutil": "dateutil"}.get(top, top)


def _dropped(name: str, keep_boto3: bool) -> bool:
    path = PurePosixPath(name)
    if not keep_boto3 and _top_level(name) in RUNTIME_PROVIDED:
        return True
    if name.endswith((".pyc", ".pyo")):
        return True
    # test suites of dependencies (numpy/_core/tests, shapely/tests, ...), not our code
    return path.parts[0] not in ("chalicelib", "app.py") and bool(
        DROPPED_DIRS & set(path.parts[:-1])
    )


def finish_package(
    src: Path, dest: Path, *, widget_dir: Path | None = None, keep_boto3: bool = False
) -> dict[str, object]:
    """The final zip from chalice's: filtered, with the widget and compiled bytecode."""
    with tempfile.TemporaryDirectory(prefix="mikrokort-pkg-") as tmp:
        root = Path(tmp) / "task"
        modes: dict[str, int] = {}
        with zipfile.ZipFile(src) as zin:
            for info in zin.infolist():
                if info.is_dir() or _dropped(info.filename, keep_boto3):
                    continue
                zin.extract(info, root)
                modes[info.filename] = info.external_attr
        if widget_dir is not None and widget_dir.is_dir():
            built = (p for p in widget_dir.rglob("*") if p.is_file() and not p.name.startswith("."))
            for f in sorted(built):  # not the build's marker files (.built)
                target = root / WIDGET_DEST / f.relative_to(widget_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(f, target)
        ok = compileall.compile_dir(
            str(root),
            quiet=1,
            stripdir=str(root),
            prependdir=LAMBDA_ROOT,
            invalidation_mode=compileall.py_compile.PycInvalidationMode.UNCHECKED_HASH,
            workers=0,
        )
        if not ok:
            raise RuntimeError("compileall failed on the package")
        files = sorted(p for p in root.rglob("*") if p.is_file())
        dest.parent.mkdir(parents=True, exist_ok=True)
        unzipped = 0
        with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zout:
            for p in files:
                name = p.relative_to(root).as_posix()
                info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
                info.external_attr = modes.get(name) or (0o100644 << 16)
                info.compress_type = zipfile.ZIP_DEFLATED
                data = p.read_bytes()
                unzipped += len(data)
                zout.writestr(info, data)
        by_top: dict[str, int] = {}
        for p in files:
            top = _top_level(p.relative_to(root).as_posix())
            by_top[top] = by_top.get(top, 0) + p.stat().st_size
    names = [p.relative_to(root).as_posix() for p in files]
    return {
        "zipped_bytes": dest.stat().st_size,
        "unzipped_bytes": unzipped,
        "files": len(names),
        "pyc_files": sum(n.endswith(".pyc") for n in names),
        "widget_files": sum(n.startswith(WIDGET_DEST + "/") for n in names),
        "boto3_bundled": any(n.startswith("botocore/") for n in names),
        "largest_unzipped": dict(sorted(by_top.items(), key=lambda kv: -kv[1])[:10]),
    }


def _staging(tmp: Path, keep_boto3: bool) -> Path:
    stage_dir = tmp / "project"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "chalicelib", stage_dir / "chalicelib", ignore=ignore)
    shutil.copy2(ROOT / "app.py", stage_dir / "app.py")
    (stage_dir / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", stage_dir / ".chalice" / "config.json")
    reqs = (ROOT / "infra" / "requirements-lambda.txt").read_text()
    if keep_boto3:
        reqs += next(
            line
            for line in (ROOT / "requirements.txt").read_text().splitlines()
            if line.startswith("boto3==")
        )
    (stage_dir / "requirements.txt").write_text(reqs + "\n")
    return stage_dir


def build(stage: str = "dev", *, keep_boto3: bool = False, dest: Path = PACKAGE) -> dict:
    from infra.synth import TEMPLATE, synth, write_merge_template

    with tempfile.TemporaryDirectory(prefix="mikrokort-build-") as t:
        tmp = Path(t)
        project = _staging(tmp, keep_boto3)
        merge = write_merge_template(stage, tmp / "merge")
        out = tmp / "out"
        env = dict(os.environ)
        env.setdefault("AWS_DEFAULT_REGION", "eu-north-1")  # no AWS call: service principals
        chalice = Path(sys.executable).parent / "chalice"
        done = subprocess.run(
            [
                *(str(chalice), "--project-dir", str(project), "package", "--stage", stage),
                *("--merge-template", str(merge), str(out)),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        log = done.stdout + done.stderr
        if done.returncode != 0 or "Could not install dependencies" in log:
            raise RuntimeError(f"chalice package failed:\n{log}")
        chalice_template = json.loads((out / TEMPLATE).read_text())
        ours = json.loads(synth(stage, tmp / "synth", package=out / "deployment.zip").read_text())
        if chalice_template != ours:
            raise RuntimeError(
                "`chalice package` and infra/synth.py wrote different templates: "
                f"compare {out / TEMPLATE} and {tmp / 'synth' / TEMPLATE}"
            )
        widget = WIDGET_DIST if WIDGET_DIST.is_dir() else None
        facts = finish_package(
            out / "deployment.zip", dest, widget_dir=widget, keep_boto3=keep_boto3
        )
        facts["chalice_zipped_bytes"] = (out / "deployment.zip").stat().st_size
    facts["stage_checked"] = stage
    facts["widget_dist"] = str(widget.relative_to(ROOT)) if widget else None
    MANIFEST.write_text(json.dumps(facts, indent=2) + "\n")
    return facts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", default="dev", help="stage whose template is cross-checked")
    parser.add_argument(
        "--bundle-boto3",
        action="store_true",
        help="ship requirements.txt's boto3 instead of using the runtime's",
    )
    args = parser.parse_args(argv)
    facts = build(args.stage, keep_boto3=args.bundle_boto3)
    mb = 1024 * 1024
    print(
        f"wrote {PACKAGE.relative_to(ROOT)}: {facts['zipped_bytes'] / mb:.1f} MB zipped, "
        f"{facts['unzipped_bytes'] / mb:.1f} MB unzipped, {facts['files']} files "
        f"({facts['pyc_files']} .pyc, {facts['widget_files']} widget files)"
    )
    if not facts["widget_files"]:
        print("note: no widget/dist: the package has no widget files (build the widget first)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
