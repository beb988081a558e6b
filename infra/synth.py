"""Synthesize the stage's CloudFormation (SAM) template, offline, in about a second.

    python -m infra.synth --stage prod [--out DIR] [--package infra/build/deployment.zip]

This is `chalice package --stage STAGE --merge-template resources.json OUT` with one step
swapped: Chalice's build stage would build the deployment package (pip, a minute and the
network); here the functions point at a package built separately by `infra/package.py`
(`./deployment.zip` beside the template, copied there when it exists). Everything else is
Chalice's own code path: the application graph, the Swagger document of the API, the SAM
generator and the deep merge of `infra/resources.py`'s template. `infra/package.py` checks
that the real `chalice package` writes the same template.

Writes OUT/resources.json (the merge template) and OUT/sam.json (the template to deploy).
No AWS call is made; the region only picks the service principals' DNS suffix.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "infra" / "build"
PACKAGE = BUILD / "deployment.zip"
TEMPLATE = "sam.json"
MERGE_TEMPLATE = "resources.json"


def write_merge_template(stage: str, outdir: Path) -> Path:
    from infra.resources import resources

    outdir.mkdir(parents=True, exist_ok=True)
    path = outdir / MERGE_TEMPLATE
    path.write_text(json.dumps(resources(stage), indent=2, sort_keys=True) + "\n")
    return path


def synth(
    stage: str,
    outdir: Path,
    *,
    package: Path = PACKAGE,
    project_dir: Path = ROOT,
    region: str = "eu-north-1",
) -> Path:
    """Write the merge template and the stage's template into `outdir`; return the template."""
    from botocore.session import Session
    from chalice.awsclient import TypedAWSClient
    from chalice.cli.factory import CLIFactory
    from chalice.deploy.appgraph import ApplicationGraphBuilder, DependencyBuilder
    from chalice.deploy.deployer import BaseDeployStep, DeploymentPackager, create_build_stage
    from chalice.deploy.swagger import CFNSwaggerGenerator
    from chalice.package import (
        AppPackager,
        CompositePostProcessor,
        JSONTemplateSerializer,
        PackageOptions,
        ResourceBuilder,
        SAMTemplateGenerator,
        TemplateDeepMerger,
        TemplateMergePostProcessor,
        TemplatePostProcessor,
    )
    from chalice.utils import UI, OSUtils

    class PrebuiltPackage(BaseDeployStep):  # type: ignore[misc]
        """Instead of building the package: the one `infra/package.py` built."""

        def handle_deploymentpackage(self, config: Any, resource: Any) -> None:
            resource.filename = str(package)

    class CodeLocation(TemplatePostProcessor):  # type: ignore[misc]
        """As Chalice's: the code sits beside the template as ./deployment.zip."""

        def process(self, template: dict, config: Any, out: str, stage_name: str) -> None:
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::Serverless::Function":
                    resource["Properties"]["CodeUri"] = "./deployment.zip"
            if package.is_file() and package.resolve() != (Path(out) / "deployment.zip"):
                shutil.copyfile(package, Path(out) / "deployment.zip")

    class BinaryForEveryAccept(TemplatePostProcessor):  # type: ignore[misc]
        """`*/*` among API Gateway's binary media types, beside Chalice's own list.

        API Gateway turns a base64 answer (a tile, a GeoPackage) back into bytes only when the
        request's first Accept type matches one of the API's binary media types. GDAL, QGIS,
        curl and a browser's fetch send `Accept: */*`, and would get the base64 text of every
        tile. With `*/*` listed, every answer the app marks base64 is decoded whatever the
        client accepts; text answers are not marked (Chalice's list stays the binary types), so
        they pass as they are. Request bodies then reach the function base64-encoded, which
        Chalice decodes (`raw_body`)."""

        def process(self, template: dict, config: Any, out: str, stage_name: str) -> None:
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::Serverless::Api":
                    body = resource["Properties"]["DefinitionBody"]
                    # a new list: Chalice's swagger holds the app's own list itself, which
                    # must keep the binary types only (it decides what is sent base64)
                    types = list(body.get("x-amazon-apigateway-binary-media-types", []))
                    body["x-amazon-apigateway-binary-media-types"] = [
                        *types,
                        *(["*/*"] if "*/*" not in types else []),
                    ]

    merge = write_merge_template(stage, outdir)
    factory = CLIFactory(project_dir=str(project_dir))
    config = factory.create_config_obj(chalice_stage_name=stage)
    session = Session()
    session.set_config_variable("region", region)
    osutils = OSUtils()
    build_stage = create_build_stage(osutils, UI(), CFNSwaggerGenerator(), config)
    steps = build_stage._steps
    swapped = [PrebuiltPackage() if isinstance(s, DeploymentPackager) else s for s in steps]
    if sum(isinstance(s, PrebuiltPackage) for s in swapped) != 1:
        raise RuntimeError("chalice's build stage changed: update infra/synth.py")
    build_stage._steps = swapped
    serializer = JSONTemplateSerializer()
    packager = AppPackager(
        SAMTemplateGenerator(config, PackageOptions(TypedAWSClient(session))),
        ResourceBuilder(ApplicationGraphBuilder(), DependencyBuilder(), build_stage),
        CompositePostProcessor(
            [
                CodeLocation(osutils),
                BinaryForEveryAccept(osutils),
                TemplateMergePostProcessor(
                    osutils=osutils,
                    merger=TemplateDeepMerger(),
                    template_serializer=serializer,
                    merge_template=str(merge),
                ),
            ]
        ),
        serializer,
        osutils,
    )
    packager.package_app(config, str(outdir), stage)
    return outdir / TEMPLATE


def main(argv: list[str] | None = None) -> int:
    from infra.resources import STAGES

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", choices=sorted(STAGES), default="dev")
    parser.add_argument("--out", type=Path, help="default: infra/build/STAGE")
    parser.add_argument("--package", type=Path, default=PACKAGE)
    args = parser.parse_args(argv)
    out = args.out or BUILD / args.stage
    template = synth(args.stage, out, package=args.package)
    note = "" if args.package.is_file() else f" (no {args.package} yet: run `make package`)"
    print(
        f"wrote {template.relative_to(ROOT) if template.is_relative_to(ROOT) else template}{note}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
