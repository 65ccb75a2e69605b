"""Templates for teams that deploy with SAM or the Serverless Framework instead of sklambda.

Both reference the built artifacts (``function.zip``, ``layer.zip``) as they are, so what those
tools upload is exactly what ``sklambda build`` verified. YAML is written by a small emitter
(strings JSON-quoted, which YAML reads as is) so no YAML library is needed at run time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from sklambda._version import __version__
from sklambda.aws.deployer import LIVE, MANAGED_TAG, DeployOptions, check_name
from sklambda.aws.errors import DeployError
from sklambda.aws.package import Package, read_package

SAM_TEMPLATE = "template.yaml"
SERVERLESS_FILE = "serverless.yml"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(str(value))


def to_yaml(value: Any, indent: int = 0) -> str:
    """Block-style YAML for dicts, lists and scalars (keys as given, strings double-quoted)."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            name = key if _plain_key(key) else json.dumps(key)
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{name}:")
                lines.append(to_yaml(item, indent + 1))
            else:
                lines.append(f"{pad}{name}: {_empty(item) if _is_empty(item) else _scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict | list) and item:
                nested = to_yaml(item, indent + 1).lstrip()
                lines.append(f"{pad}- {nested}")
            else:
                lines.append(f"{pad}- {_empty(item) if _is_empty(item) else _scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return "\n".join(lines)


def _plain_key(key: str) -> bool:
    return key.replace("_", "").replace("-", "").replace(".", "").isalnum()


def _is_empty(item: Any) -> bool:
    return isinstance(item, dict | list) and not item


def _empty(item: Any) -> str:
    return "{}" if isinstance(item, dict) else "[]"


def _copy_artifacts(package: Package, out: Path) -> dict[str, str]:
    """The artifacts next to the template (copied when ``out`` is not the package itself)."""
    out.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for kind, path in (("function", package.function_zip), ("layer", package.layer_zip)):
        if path is None:
            continue
        if out.resolve() != package.dist.resolve():
            shutil.copyfile(path, out / path.name)
        names[kind] = path.name
    if "function" not in names:
        raise DeployError(
            f"{package.dist} has no function.zip (an image context); templates are written for "
            "zip packages"
        )
    return names


def _tags(package: Package) -> dict[str, str]:
    return {
        MANAGED_TAG: "true",
        "sklambda:model": package.model_name,
        "sklambda:model-version": package.model_version,
        "sklambda:version": __version__,
    }


def _monitoring(name: str, options: DeployOptions, **kwargs: Any) -> dict[str, Any]:
    """Log group, alarm topic, memory filter, alarms (sklambda.monitor, issue #13)."""
    from sklambda.monitor.cloudformation import resources

    return resources(
        name, options.monitoring, memory=options.memory, timeout=options.timeout, **kwargs
    )


def _pings(options: DeployOptions) -> list[tuple[str, str]]:
    """(schedule, constant input) of each keep-warm ping (:mod:`sklambda.aws.warming`)."""
    from sklambda.aws.warming import ping, schedule_expression

    minutes = options.keep_warm_minutes
    if not minutes:
        return []
    count = options.keep_warm_concurrency
    expression = schedule_expression(minutes)
    return [(expression, json.dumps(ping(i, count), separators=(",", ":"))) for i in range(count)]


def sam_template(package: Package, name: str, options: DeployOptions, files: dict[str, str]) -> str:
    """A SAM template: the function with ``AutoPublishAlias: live`` and a URL on that alias."""
    auth = "NONE" if options.public else "AWS_IAM"
    function: dict[str, Any] = {
        "FunctionName": name,
        "Description": f"sklambda: model {package.model_name} {package.model_version}",
        "CodeUri": files["function"],
        "Handler": package.handler,
        "Runtime": package.runtime,
        "Architectures": [options.arch or package.arch],
        "MemorySize": options.memory,
        "Timeout": options.timeout,
        "AutoPublishAlias": LIVE,
        "FunctionUrlConfig": {"AuthType": auth},
        "Tags": _tags(package),
    }
    if options.env:
        function["Environment"] = {"Variables": dict(options.env)}
    cors = options.cors
    if cors:
        function["FunctionUrlConfig"]["Cors"] = cors
    if options.max_concurrency:
        function["ReservedConcurrentExecutions"] = options.max_concurrency
    if options.provisioned:
        function["ProvisionedConcurrencyConfig"] = {
            "ProvisionedConcurrentExecutions": options.provisioned
        }
    if options.snapstart:
        function["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    events = {
        f"KeepWarm{i}": {
            "Type": "Schedule",
            "Properties": {"Schedule": schedule, "Input": ping_input},
        }
        for i, (schedule, ping_input) in enumerate(_pings(options))
    }
    if events:
        function["Events"] = events
    resources: dict[str, Any] = {}
    if "layer" in files:
        resources["ModelLayer"] = {
            "Type": "AWS::Serverless::LayerVersion",
            "Properties": {
                "LayerName": f"sklambda-{name}",
                "Description": f"sklambda layer sha256:{package.sha256('layer')}",
                "ContentUri": files["layer"],
                "CompatibleRuntimes": [package.runtime],
                "CompatibleArchitectures": [options.arch or package.arch],
                "RetentionPolicy": "Delete",
            },
        }
        function["Layers"] = [{"Ref": "ModelLayer"}]
    resources["ModelFunction"] = {"Type": "AWS::Serverless::Function", "Properties": function}
    resources.update(_monitoring(name, options))
    if options.public:
        # SAM adds lambda:InvokeFunctionUrl for a NONE URL; since October 2025 a public URL
        # also needs lambda:InvokeFunction restricted to calls that come through the URL.
        resources["PublicUrlInvokePermission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "ModelFunction.Alias"},
                "Principal": "*",
                "InvokedViaFunctionUrl": True,
            },
        }
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"{name}: scikit-learn model {package.model_name} served by sklambda "
        f"{__version__} ({package.report.get('runtime', '?')} runtime)",
        "Resources": resources,
        "Outputs": {
            "FunctionUrl": {
                "Description": f"function URL on alias {LIVE} ({auth})",
                "Value": {"Fn::GetAtt": ["ModelFunctionUrl", "FunctionUrl"]},
            },
        },
    }
    header = (
        "# Written by `sklambda export sam`. Deploy with:\n"
        "#   sam deploy --guided   (or: sam deploy --stack-name "
        f"{name} --capabilities CAPABILITY_IAM --resolve-s3)\n"
    )
    return header + to_yaml(template) + "\n"


def serverless_config(
    package: Package, name: str, options: DeployOptions, files: dict[str, str]
) -> str:
    """A serverless.yml packaging the built artifacts, with a function URL."""
    function: dict[str, Any] = {
        "name": name,
        "handler": package.handler,
        "description": f"sklambda: model {package.model_name} {package.model_version}",
        "package": {"artifact": files["function"]},
        "url": True if options.public else {"authorizer": "aws_iam"},
        "tags": _tags(package),
    }
    if options.env:
        function["environment"] = dict(options.env)
    cors = options.cors
    if cors:
        url: dict[str, Any] = {} if options.public else {"authorizer": "aws_iam"}
        url["cors"] = {
            "allowedOrigins": cors["AllowOrigins"],
            "allowedMethods": cors["AllowMethods"],
            "allowedHeaders": cors["AllowHeaders"],
            "maxAge": cors["MaxAge"],
        }
        function["url"] = url
    if options.max_concurrency:
        function["reservedConcurrency"] = options.max_concurrency
    if options.provisioned:
        function["provisionedConcurrency"] = options.provisioned
    if options.snapstart:
        function["snapStart"] = True
    pings = [
        {"schedule": {"rate": [rate], "input": json.loads(text)}} for rate, text in _pings(options)
    ]
    if pings:
        function["events"] = pings
    config: dict[str, Any] = {
        "service": name,
        "frameworkVersion": ">=3",
        "provider": {
            "name": "aws",
            "runtime": package.runtime,
            "architecture": options.arch or package.arch,
            "memorySize": options.memory,
            "timeout": options.timeout,
        },
        "package": {"individually": True},
    }
    if "layer" in files:
        config["layers"] = {
            "model": {
                "name": f"sklambda-{name}",
                "description": f"sklambda layer sha256:{package.sha256('layer')}",
                "package": {"artifact": files["layer"]},
                "compatibleRuntimes": [package.runtime],
                "compatibleArchitectures": [options.arch or package.arch],
            }
        }
        # The Framework names a layer's CloudFormation resource <Name>LambdaLayer.
        function["layers"] = [{"Ref": "ModelLambdaLayer"}]
    config["functions"] = {"predict": function}
    if options.public:
        # `url: true` grants lambda:InvokeFunctionUrl; the second permission a public URL needs
        # since October 2025 is added as a plain CloudFormation resource.
        config["resources"] = {
            "Resources": {
                "PublicUrlInvokePermission": {
                    "Type": "AWS::Lambda::Permission",
                    "Properties": {
                        "Action": "lambda:InvokeFunction",
                        "FunctionName": {"Ref": "PredictLambdaFunction"},
                        "Principal": "*",
                        "InvokedViaFunctionUrl": True,
                    },
                }
            }
        }
    # The Framework declares the function's log group itself (PredictLogGroup).
    if options.monitoring.log_retention_days is not None:
        config["provider"]["logRetentionInDays"] = options.monitoring.log_retention_days
    watched = _monitoring(name, options, log_group=False, depends_on="PredictLogGroup")
    if watched:
        config.setdefault("resources", {}).setdefault("Resources", {}).update(watched)
    header = "# Written by `sklambda export serverless`. Deploy with: serverless deploy\n"
    return header + to_yaml(config) + "\n"


def export(
    kind: str,
    dist: str | Path,
    name: str,
    out: str | Path | None = None,
    options: DeployOptions | None = None,
) -> Path:
    """Write ``template.yaml`` (``kind="sam"``) or ``serverless.yml`` (``kind="serverless"``).

    Parameters
    ----------
    dist:
        A package directory from ``sklambda build``.
    out:
        Where to write (default: the package directory); the artifacts are copied next to the
        file so the directory deploys on its own.

    Returns
    -------
    Path
        The file written.
    """
    if kind not in ("sam", "serverless"):
        raise DeployError(f'unknown template kind "{kind}"; choose sam or serverless')
    check_name(name)
    package = read_package(dist)
    options = options or DeployOptions()
    target = Path(out) if out is not None else package.dist
    files = _copy_artifacts(package, target)
    if kind == "sam":
        path, text = target / SAM_TEMPLATE, sam_template(package, name, options, files)
    else:
        path, text = target / SERVERLESS_FILE, serverless_config(package, name, options, files)
    path.write_text(text)
    return path
