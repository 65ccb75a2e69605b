"""Deploy a package to Lambda: a planner that reads what exists, an executor that converges it.

Every step is "make it so", never "do it again": a role, a layer version, a permission or a URL
that already exists is reused, so running the same deploy twice — or after an interrupted run —
changes nothing that is already right. ``live`` moves only after the new version is published
and ready, so a failed update leaves it where it was.

What sklambda owns is marked: functions and roles carry the tag ``sklambda:managed=true``, layer
versions a description starting with ``sklambda layer``, permissions the statement ids below.
``destroy`` removes exactly those things.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklambda import limits
from sklambda._version import __version__
from sklambda.aws.client import AwsClient
from sklambda.aws.errors import (
    REGIONS_WITHOUT_FUNCTION_URLS,
    AwsError,
    DeployError,
    NotManagedError,
    RegionError,
)
from sklambda.aws.package import Package, read_package
from sklambda.monitor.options import MonitorOptions

LIVE = "live"
MANAGED_TAG = "sklambda:managed"
FUNCTION_TAG = "sklambda:function"
ROLE_TAG = "sklambda:role"  # "created" when sklambda made the role, "external" for --role-arn
BUCKET_TAG = "sklambda:s3-bucket"
LAYER_MARK = "sklambda layer"
PUBLIC_URL_SID = "sklambda-public-url"
PUBLIC_INVOKE_SID = "sklambda-public-invoke"
ROLE_WAIT = 120.0  # seconds a new role may take before Lambda can assume it (IAM propagation)
ENV_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
ASSUME_ROLE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


@dataclass(frozen=True)
class DeployOptions:
    """How to deploy; the CLI flags of ``sklambda deploy`` as fields.

    Parameters
    ----------
    memory:
        MB, 128–10,240 (1,769 MB is one vCPU).
    timeout:
        Seconds, 1–900.
    arch:
        ``x86_64`` or ``arm64``; default: the architecture the package was built for.
    public:
        Function URL with ``AuthType=NONE`` and the two permissions a public URL needs; default
        ``AWS_IAM`` (only SigV4-signed callers with ``lambda:InvokeFunctionUrl``).
    role_arn:
        An execution role to use instead of the one sklambda creates (basic logging only).
    s3_bucket:
        Where artifacts over 50 MiB zipped go (created if missing); default
        ``sklambda-<account>-<region>``, used only when needed.
    env:
        Environment variables for the function.
    adopt:
        Take over a same-named function (or role) that sklambda did not create.
    image_uri:
        Deploy a container image the user pushed (for packages built as an image context).
    monitoring:
        Log retention and alarms (:class:`sklambda.monitor.options.MonitorOptions`).
    keep_warm, keep_warm_concurrency:
        ``"5m"``/``"1h"``/minutes: ping ``live`` on that schedule with N parallel pings
        (:mod:`sklambda.aws.warming`); ``"off"`` removes the schedule; None leaves it as it is.
    provisioned, max_concurrency:
        Provisioned concurrency on ``live`` and reserved concurrency
        (:mod:`sklambda.aws.concurrency`); 0 removes, None leaves as is.
    snapstart:
        SnapStart on published versions (python3.12+ zip); False turns it off, None leaves it.
    cors_origins:
        Origins allowed to call the URL from a browser (:mod:`sklambda.aws.cors`); ``()``
        removes CORS, None leaves it as it is.
    canary:
        Percent (1-99) of ``live``'s traffic for the new version, the rest staying on the
        current one (alias routing); ``promote`` or ``rollback`` ends it.
    create_repository:
        With ``image_uri``: create its ECR repository when missing (:mod:`sklambda.aws.registry`).
    """

    memory: int = 1024
    timeout: int = 30
    arch: str | None = None
    public: bool = False
    role_arn: str | None = None
    s3_bucket: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    adopt: bool = False
    image_uri: str | None = None
    monitoring: MonitorOptions = field(default_factory=MonitorOptions)
    keep_warm: str | int | None = None
    keep_warm_concurrency: int = 1
    provisioned: int | None = None
    max_concurrency: int | None = None
    snapstart: bool | None = None
    cors_origins: tuple[str, ...] | None = None
    canary: float | None = None
    create_repository: bool = False

    @property
    def cors(self) -> dict[str, Any] | None:
        from sklambda.aws.cors import cors_config

        return cors_config(tuple(self.cors_origins or ()), self.public)

    @property
    def keep_warm_minutes(self) -> int | None:
        from sklambda.aws.warming import parse_keep_warm

        if self.keep_warm is None:
            return None
        if isinstance(self.keep_warm, int):
            return parse_keep_warm(f"{self.keep_warm}m" if self.keep_warm else "off")
        return parse_keep_warm(self.keep_warm)

    def __post_init__(self) -> None:
        from sklambda.aws.concurrency import check_combination
        from sklambda.aws.warming import check_concurrency

        _ = self.keep_warm_minutes, self.cors  # refused before anything is read
        check_concurrency(self.keep_warm_concurrency)
        if self.keep_warm is None and self.keep_warm_concurrency != 1:
            raise DeployError(
                "--keep-warm-concurrency goes with --keep-warm PERIOD (e.g. --keep-warm 5m)"
            )
        check_combination(self.snapstart, self.provisioned)
        if self.create_repository and self.image_uri is None:
            raise DeployError("--create-repository goes with --image-uri (an ECR image)")
        if self.canary is not None and not 0 < self.canary < 100:
            raise DeployError(f"--canary is a percent between 1 and 99, got {self.canary:g}")
        if self.max_concurrency is not None and self.max_concurrency < 0:
            raise DeployError(
                f"--max-concurrency must be 0 (remove) or more, got {self.max_concurrency}"
            )
        limits.check_memory(self.memory, DeployError)
        limits.check_timeout(self.timeout, DeployError, whole=True)
        if self.arch not in (None, "x86_64", "arm64"):
            raise DeployError(f'unknown arch "{self.arch}"; choose x86_64 or arm64')
        if self.role_arn is not None and not self.role_arn.startswith("arn:"):
            raise DeployError(
                f'--role-arn must be a role ARN (arn:aws:iam::123456789012:role/NAME), got "'
                f'{self.role_arn}"'
            )
        for key in self.env:
            if not ENV_KEY.match(key):
                raise DeployError(
                    f'environment variable name "{key}" is not valid: letters, digits and _, '
                    "starting with a letter"
                )
        limits.check_env_size(self.env, DeployError)


@dataclass(frozen=True)
class DeployResult:
    """What a deploy left behind.

    Attributes
    ----------
    url:
        The function URL (on the alias ``live``).
    version:
        The version ``live`` points at now; ``previous_version`` where it pointed before
        (``None`` on a first deploy).
    actions:
        What was done, in order ("created role …", "reused layer version 3", …); empty steps are
        not listed, so an unchanged redeploy lists only what it verified.
    """

    name: str
    region: str
    url: str
    auth_type: str
    version: str
    previous_version: str | None
    function_arn: str
    layer_arn: str | None
    role_arn: str
    actions: tuple[str, ...]
    example: dict[str, Any] = field(default_factory=dict)
    canary: float | None = None
    """The percent of ``live`` the new ``version`` gets while a canary runs (None: all of it)."""

    def example_command(self) -> str:
        """A ready-to-run request: curl for a public URL, ``sklambda invoke --remote`` (signed
        with SigV4 from the caller's credentials) for ``AWS_IAM``."""
        body = shlex.quote(json.dumps({"instances": [self.example]}))
        if self.auth_type == "NONE":
            return f"curl -s {self.url} -H 'content-type: application/json' -d {body}"
        return f"sklambda invoke {self.name} --remote --json {body} --region {self.region}"


def canary_weights(alias: dict[str, Any]) -> dict[str, float]:
    """The versions alias ``live`` sends a share of its traffic to (a canary), by version."""
    routing = alias.get("RoutingConfig") or {}
    return {str(k): float(v) for k, v in (routing.get("AdditionalVersionWeights") or {}).items()}


def check_name(name: str) -> str:
    if not limits.is_function_name(name):
        raise DeployError(
            f'function name "{name}" is not valid: {limits.FUNCTION_NAME_RULE} (e.g. houses-v2)'
        )
    return name


def role_name_for(name: str) -> str:
    """``sklambda-NAME``, shortened with a digest when it would pass IAM's 64 characters."""
    full = f"sklambda-{name}"
    if len(full) <= 64:
        return full
    return f"sklambda-{name[:45]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def layer_name_for(name: str) -> str:
    return f"sklambda-{name}"


def layer_description(package: Package) -> str:
    return f"{LAYER_MARK} sha256:{package.sha256('layer')}"


def check_function_url_region(region: str) -> None:
    if region in REGIONS_WITHOUT_FUNCTION_URLS:
        raise RegionError(
            f"Lambda function URLs are not offered in {region} (nor in "
            f"{', '.join(sorted(REGIONS_WITHOUT_FUNCTION_URLS - {region}))}); deploy to a region "
            "that has them, e.g. us-east-1, us-west-2, eu-west-1, eu-central-1, ap-south-1, "
            "ap-southeast-1, ap-northeast-1, sa-east-1"
        )


def is_managed(tags: dict[str, str] | None) -> bool:
    return (tags or {}).get(MANAGED_TAG) == "true"


# -- plan ------------------------------------------------------------------------------------------


@dataclass
class Step:
    """One thing the executor will do; ``run`` returns what happened (``""``: nothing to say).

    ``preview`` (reads only) says what ``run`` would do: a line starting with ``create``,
    ``update``, ``remove`` or ``leave`` (``deploy --dry-run`` prints them).
    """

    description: str
    run: Callable[[], str]
    preview: Callable[[], str] | None = None


@dataclass
class Plan:
    """Steps decided from what exists, and the values they fill in as they run."""

    name: str
    steps: list[Step] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> list[str]:
        return [step.description for step in self.steps]

    def preview(self) -> list[str]:
        """What each step would do, read from what exists; nothing is changed."""
        return [
            step.preview() if step.preview is not None else f"converge {step.description}"
            for step in self.steps
        ]


class _Deployment:
    """Reads the current state (the plan) and converges it (the steps)."""

    def __init__(
        self, client: AwsClient, package: Package, name: str, options: DeployOptions
    ) -> None:
        self.client = client
        self.package = package
        self.name = check_name(name)
        self.options = options
        self.arch = options.arch or package.arch
        self.image = options.image_uri is not None
        self.plan = Plan(self.name)
        self.bucket: str | None = None
        from sklambda.aws.model_objects import model_store

        self.store = model_store(package)  # the model's files kept in S3 (build --model-from s3)

    # -- planning (reads only) --------------------------------------------------------------------

    def make_plan(self) -> Plan:
        check_function_url_region(self.client.region)
        pkg, options = self.package, self.options
        if not self.image and pkg.function_zip is None:
            raise DeployError(
                f"{pkg.dist} is an image context: build and push the image, then pass "
                "--image-uri ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG"
            )
        if self.arch != pkg.arch and pkg.layer_zip is not None:
            raise DeployError(
                f"the package was built for {pkg.arch} and its layer holds {pkg.arch} binaries; "
                f"rebuild with --arch {self.arch} or deploy with --arch {pkg.arch}"
            )
        found = self.client.get_function(self.name)
        self.existing = found
        if found is not None:
            if not is_managed(found.get("Tags")) and not options.adopt:
                raise NotManagedError(
                    f"a function named {self.name} already exists in {self.client.region} and "
                    "was not created by sklambda; choose another --name, or pass --adopt to let "
                    "sklambda take it over (its code, configuration and alias live will change)"
                )
            package_type = found["Configuration"].get("PackageType", "Zip")
            if package_type != ("Image" if self.image else "Zip"):
                raise DeployError(
                    f"function {self.name} is a {package_type} function; Lambda cannot switch "
                    f"it to {'Image' if self.image else 'Zip'}: `sklambda destroy {self.name}` "
                    "first or choose another --name"
                )
        self.plan.values["function_exists"] = found is not None
        self._check_snapstart(found)
        steps = self.plan.steps
        if options.create_repository:
            steps.append(Step("ECR repository", self.ensure_repository, self.preview_repository))
        if options.role_arn:
            self.plan.values["role_arn"] = options.role_arn
        else:
            steps.append(
                Step(
                    f"execution role {role_name_for(self.name)}",
                    self.ensure_role,
                    self.preview_role,
                )
            )
        if pkg.layer_zip is not None and not self.image:
            steps.append(
                Step(f"layer {layer_name_for(self.name)}", self.ensure_layer, self.preview_layer)
            )
        if self.store is not None:
            self.bucket = (
                options.s3_bucket
                or self.store.get("bucket")
                or f"sklambda-{self.client.account_id}-{self.client.region}"
            )
            steps.append(Step("model files in S3", self.upload_model, self.preview_model))
        if found is None:
            steps.append(Step(f"function {self.name}", self.create_function, self.preview_function))
        else:
            steps.append(Step(f"function {self.name}", self.update_function, self.preview_function))
        steps.append(Step(f"version and alias {LIVE}", self.publish, self.preview_publish))
        steps.append(Step("function URL", self.ensure_url, self.preview_url))
        steps.append(Step("URL permissions", self.ensure_permissions, self.preview_permissions))
        steps.extend(self._operating_steps())
        steps.extend(self._monitoring_steps())
        return self.plan

    def _check_snapstart(self, found: dict[str, Any] | None) -> None:
        """SnapStart only where Lambda offers it, and never next to provisioned concurrency."""
        from sklambda.aws.concurrency import COMBINATION, check_snapstart, provisioned

        options = self.options
        if options.snapstart:
            check_snapstart(self.package.runtime, self.image)
            if (
                found is not None
                and options.provisioned is None
                and provisioned(self.client, self.name)
            ):
                raise DeployError(
                    f"{COMBINATION}; {self.name}:{LIVE} has provisioned concurrency: pass "
                    "--provisioned 0 with --snapstart to switch"
                )
        if options.provisioned and found is not None and options.snapstart is None:
            applied = (found["Configuration"].get("SnapStart") or {}).get("ApplyOn", "None")
            if applied == "PublishedVersions":
                raise DeployError(
                    f"{COMBINATION}; {self.name} has SnapStart on: pass --no-snapstart with "
                    "--provisioned to switch"
                )

    def _operating_steps(self) -> list[Step]:
        """Reserved and provisioned concurrency, then the keep-warm schedule (issue #14)."""
        from sklambda.aws.concurrency import concurrency_steps
        from sklambda.aws.warming import keep_warm_steps

        options = self.options
        return [
            *concurrency_steps(
                self.client,
                self.name,
                max_concurrency=options.max_concurrency,
                provisioned_count=options.provisioned,
                exists=self.existing is not None,
            ),
            *keep_warm_steps(
                self.client,
                self.name,
                options.keep_warm_minutes,
                options.keep_warm_concurrency,
                self.plan.values,
            ),
        ]

    def _monitoring_steps(self) -> list[Step]:
        """Log retention and alarms (sklambda.monitor, issue #13)."""
        from sklambda.monitor.watch import monitoring_steps

        options = self.options
        return monitoring_steps(
            self.client,
            self.name,
            options.monitoring,
            memory=options.memory,
            timeout=options.timeout,
            values=self.plan.values,
            model_version=self.package.model_version,
        )

    # -- previews (reads only: what each step would do) -------------------------------------------

    def preview_repository(self) -> str:
        from sklambda.aws.registry import parse_image_uri

        assert self.options.image_uri is not None
        repository = parse_image_uri(self.options.image_uri)[2]
        if self.client.maybe("ecr", "DescribeRepositories", repositoryNames=[repository]):
            return f"leave ECR repository {repository}"
        return f"create ECR repository {repository} (then push the image before deploying)"

    def ensure_repository(self) -> str:
        from sklambda.aws.registry import ensure_repository

        assert self.options.image_uri is not None
        return "; ".join(ensure_repository(self.client, self.options.image_uri, self.name))

    def preview_model(self) -> str:
        from sklambda.aws.model_objects import object_keys, prefix

        assert self.store is not None
        assert self.bucket is not None
        if self.client.maybe("s3", "HeadBucket", Bucket=self.bucket) is None:
            return f"create bucket {self.bucket} and upload {len(self.store['files'])} model files"
        missing = [
            key
            for _, key in object_keys(self.name, self.store)
            if self.client.maybe("s3", "HeadObject", Bucket=self.bucket, Key=key) is None
        ]
        if missing:
            return f"create {len(missing)} model files in s3://{self.bucket}/{prefix(self.name)}"
        return f"leave model files in s3://{self.bucket}/{prefix(self.name)}"

    def upload_model(self) -> str:
        from sklambda.aws.model_objects import upload

        assert self.store is not None
        assert self.bucket is not None
        if self.client.ensure_bucket(self.bucket):
            self.plan.values.setdefault("notes", []).append(f"created S3 bucket {self.bucket}")
        said = upload(self.client, self.package, self.name, self.bucket, self.store)
        if self.options.role_arn:
            said += (
                f"; the role given with --role-arn needs s3:GetObject on "
                f"arn:aws:s3:::{self.bucket}/sklambda/{self.name}/model/*"
            )
        return said

    def preview_role(self) -> str:
        role_name = role_name_for(self.name)
        role = self.client.get_role(role_name)
        if role is None:
            return f"create execution role {role_name} (logs only)"
        if role["TagMap"].get(MANAGED_TAG) != "true" and not self.options.adopt:
            return f"refuse role {role_name}: it exists and sklambda did not create it"
        self.plan.values.setdefault("preview_role_arn", role["Arn"])
        return f"leave execution role {role_name} (its policy is rewritten as it is)"

    def _matching_layer(self) -> dict[str, Any] | None:
        pkg = self.package
        description = layer_description(pkg)
        for version in self.client.layer_versions(layer_name_for(self.name)):
            if (
                version.get("Description") == description
                and self.arch in (version.get("CompatibleArchitectures") or [self.arch])
                and pkg.runtime in (version.get("CompatibleRuntimes") or [pkg.runtime])
            ):
                return version
        return None

    def preview_layer(self) -> str:
        found = self._matching_layer()
        if found is None:
            return f"create layer version of {layer_name_for(self.name)}"
        self.plan.values.setdefault("preview_layer_arn", found["LayerVersionArn"])
        return f"leave layer {layer_name_for(self.name)} version {found['Version']} (same sha256)"

    def _changes(self) -> list[str]:
        """What an update of the existing function would change (code, configuration)."""
        assert self.existing is not None
        current = self.existing["Configuration"]
        changes = []
        if self.image:
            code_same = self.existing.get("Code", {}).get("ImageUri") == self.options.image_uri
        else:
            code_same = current.get("CodeSha256") == self.package.lambda_code_sha256()
        if not code_same or current.get("Architectures", ["x86_64"]) != [self.arch]:
            changes.append("code")
        values = self.plan.values
        saved = {key: values.get(key) for key in ("role_arn", "layer_arn")}
        values.setdefault("role_arn", values.get("preview_role_arn") or "(new role)")
        if self.package.layer_zip is not None and not self.image:
            values.setdefault("layer_arn", values.get("preview_layer_arn") or "(new layer)")
        try:
            if self._config_differs(current, self._configuration()):
                changes.append("configuration")
        finally:
            for key, value in saved.items():
                if value is None:
                    values.pop(key, None)
                else:
                    values[key] = value
        return changes

    def preview_function(self) -> str:
        if self.existing is None:
            return f"create function {self.name} ({self.package.runtime}, {self.arch})"
        changes = self._changes()
        if changes:
            return f"update function {self.name}: {' and '.join(changes)}"
        return f"leave function {self.name} (code and configuration as they are)"

    def preview_publish(self) -> str:
        if self.existing is None:
            return f"create version 1 and alias {LIVE}"
        alias = self.client.maybe("lambda", "GetAlias", FunctionName=self.name, Name=LIVE)
        if alias is None:
            return f"create a version and alias {LIVE}"
        if self._changes():
            if self.options.canary is not None:
                return (
                    f"update alias {LIVE}: a new version gets {self.options.canary:g}% (canary), "
                    f"version {alias['FunctionVersion']} the rest"
                )
            return f"update alias {LIVE}: a new version, moved from {alias['FunctionVersion']}"
        return f"leave alias {LIVE} at version {alias['FunctionVersion']}"

    def preview_url(self) -> str:
        auth = "NONE" if self.options.public else "AWS_IAM"
        found = None
        if self.existing is not None:
            found = self.client.maybe(
                "lambda", "GetFunctionUrlConfig", FunctionName=self.name, Qualifier=LIVE
            )
        cors = self.options.cors
        if found is None:
            return f"create function URL (auth {auth}{', CORS' if cors else ''})"
        changes = []
        if found.get("AuthType") != auth:
            changes.append(f"auth {found.get('AuthType')} → {auth}")
        if self.options.cors_origins is not None and not self._same_cors(found):
            changes.append(
                f"CORS origins {', '.join((cors or {}).get('AllowOrigins', [])) or 'none'}"
            )
        if changes:
            return f"update function URL: {'; '.join(changes)}"
        return f"leave function URL {found['FunctionUrl']} (auth {auth})"

    def preview_permissions(self) -> str:
        present = (
            {s.get("Sid") for s in self.client.policy_statements(self.name, LIVE)}
            if self.existing is not None
            else set()
        )
        if self.options.public:
            missing = [sid for sid in (PUBLIC_URL_SID, PUBLIC_INVOKE_SID) if sid not in present]
            if missing:
                return f"create public permissions {', '.join(missing)}"
            return "leave public permissions"
        there = [sid for sid in (PUBLIC_URL_SID, PUBLIC_INVOKE_SID) if sid in present]
        if there:
            return f"remove public permissions {', '.join(there)}"
        return "leave permissions (no public grants)"

    # -- steps ------------------------------------------------------------------------------------

    def ensure_role(self) -> str:
        client, role_name = self.client, role_name_for(self.name)
        role = client.get_role(role_name)
        said = f"reused role {role_name}"
        if role is None:
            role = client.call(
                "iam",
                "CreateRole",
                RoleName=role_name,
                AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE_POLICY),
                Description=f"sklambda: execution role of the Lambda function {self.name}",
                Tags=[
                    {"Key": MANAGED_TAG, "Value": "true"},
                    {"Key": FUNCTION_TAG, "Value": self.name},
                ],
            )["Role"]
            said = f"created role {role_name}"
        elif role["TagMap"].get(MANAGED_TAG) != "true" and not self.options.adopt:
            raise NotManagedError(
                f"an IAM role named {role_name} exists and was not created by sklambda; pass "
                "--role-arn to use a role of your own, or --adopt to let sklambda use it"
            )
        arn: str = role["Arn"]
        partition, account = arn.split(":")[1], arn.split(":")[4]
        region = self.client.region
        log_group = f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/{self.name}"
        # Only what a function needs to write its own logs (what the Lambda console creates).
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "logs:CreateLogGroup",
                    "Resource": f"arn:{partition}:logs:{region}:{account}:*",
                },
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                    "Resource": f"{log_group}:*",
                },
            ],
        }
        # PutRolePolicy replaces a same-named policy, so this is safe to repeat.
        client.call(
            "iam",
            "PutRolePolicy",
            RoleName=role_name,
            PolicyName="sklambda-logs",
            PolicyDocument=json.dumps(policy),
        )
        self._model_policy(role_name, partition)
        self.plan.values["role_arn"] = arn
        self.plan.values["role_managed"] = True
        return said

    def _model_policy(self, role_name: str, partition: str) -> None:
        """s3:GetObject on exactly the model's objects; none when the model is in the package."""
        from sklambda.aws.model_objects import POLICY_NAME, read_policy

        if self.store is None:
            self.client.maybe("iam", "DeleteRolePolicy", RoleName=role_name, PolicyName=POLICY_NAME)
            return
        assert self.bucket is not None
        document = read_policy(partition, self.bucket, self.name, self.store)
        self.client.call(
            "iam",
            "PutRolePolicy",
            RoleName=role_name,
            PolicyName=POLICY_NAME,
            PolicyDocument=json.dumps(document),
        )

    def _code(self, kind: str, path: Path) -> dict[str, Any]:
        """``Code``/``Content`` for an artifact: inline, or through S3 when it is too big."""
        if path.stat().st_size <= self.client.direct_upload_limit:
            return {"ZipFile": path.read_bytes()}
        client = self.client
        if self.bucket is None:
            self.bucket = self.options.s3_bucket or f"sklambda-{client.account_id}-{client.region}"
            if client.ensure_bucket(self.bucket):
                self.plan.values.setdefault("notes", []).append(f"created S3 bucket {self.bucket}")
        # Content-addressed keys: an unchanged artifact is not uploaded twice.
        key = f"sklambda/{self.name}/{kind}-{self.package.sha256(kind)}.zip"
        client.upload(path, self.bucket, key)
        return {"S3Bucket": self.bucket, "S3Key": key}

    def ensure_layer(self) -> str:
        pkg, client = self.package, self.client
        layer_name = layer_name_for(self.name)
        description = layer_description(pkg)
        version = self._matching_layer()
        if version is not None:
            self.plan.values["layer_arn"] = version["LayerVersionArn"]
            return f"reused layer {layer_name} version {version['Version']}"
        assert pkg.layer_zip is not None
        published = client.call(
            "lambda",
            "PublishLayerVersion",
            LayerName=layer_name,
            Description=description,
            Content=self._code("layer", pkg.layer_zip),
            CompatibleRuntimes=[pkg.runtime],
            CompatibleArchitectures=[self.arch],
        )
        self.plan.values["layer_arn"] = published["LayerVersionArn"]
        return f"published layer {layer_name} version {published['Version']}"

    def _tags(self) -> dict[str, str]:
        pkg = self.package
        tags = {
            MANAGED_TAG: "true",
            "sklambda:model": pkg.model_name,
            "sklambda:model-version": pkg.model_version,
            "sklambda:version": __version__,
            ROLE_TAG: "created" if self.plan.values.get("role_managed") else "external",
        }
        # build.json names the bundle by its content-stable model version; a bundle sha256 is
        # tagged too when the build recorded one.
        bundle_sha = pkg.report.get("model", {}).get("sha256") or pkg.report.get("bundle_sha256")
        if bundle_sha:
            tags["sklambda:bundle-sha256"] = str(bundle_sha)
        if pkg.function_zip is not None and not self.image:
            tags["sklambda:code-sha256"] = pkg.sha256("function")
        if self.bucket:
            tags[BUCKET_TAG] = self.bucket
        return tags

    def _configuration(self) -> dict[str, Any]:
        values, pkg, options = self.plan.values, self.package, self.options
        variables = dict(options.env)
        config: dict[str, Any] = {
            "Role": values["role_arn"],
            "MemorySize": options.memory,
            "Timeout": options.timeout,
            "Description": f"sklambda: model {pkg.model_name} {pkg.model_version}".strip(),
            "Environment": {"Variables": variables},
        }
        if self.store is not None:
            from sklambda.aws.model_objects import environment, ephemeral_storage_mb

            assert self.bucket is not None
            variables.update(environment(self.name, self.bucket))
            config["EphemeralStorage"] = {"Size": ephemeral_storage_mb(self.store)}
        if not self.image:
            config["Handler"] = pkg.handler
            config["Runtime"] = pkg.runtime
            config["Layers"] = [values["layer_arn"]] if values.get("layer_arn") else []
        if options.snapstart is not None:
            config["SnapStart"] = {"ApplyOn": "PublishedVersions" if options.snapstart else "None"}
        return config

    def _function_code(self) -> dict[str, Any]:
        if self.image:
            return {"ImageUri": self.options.image_uri}
        assert self.package.function_zip is not None
        return self._code("function", self.package.function_zip)

    def _role_retry(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call, retrying while IAM has not yet propagated a role sklambda just made."""
        client = self.client
        deadline = client.clock() + ROLE_WAIT
        delay = 2.0
        while True:
            try:
                return client.call("lambda", operation, **params)
            except AwsError as exc:
                assumable = "role" in str(exc) and "assume" in str(exc)
                if not assumable:
                    raise
                if not self.plan.values.get("role_managed") or client.clock() > deadline:
                    raise DeployError(
                        f"Lambda cannot assume the role {params.get('Role')}: its trust policy "
                        "must allow lambda.amazonaws.com to sts:AssumeRole (and it must exist)"
                    ) from exc
                client.sleep(delay)
                delay = min(delay * 1.5, 10.0)

    def create_function(self) -> str:
        config = self._configuration()
        created = self._role_retry(
            "CreateFunction",
            FunctionName=self.name,
            Code=self._function_code(),
            PackageType="Image" if self.image else "Zip",
            Architectures=[self.arch],
            Tags=self._tags(),
            Publish=False,
            **config,
        )
        self.plan.values["function_arn"] = created["FunctionArn"]
        self.client.wait_ready(self.name)
        return f"created function {self.name}"

    def update_function(self) -> str:
        client = self.client
        # A previous run may have been interrupted mid-update: Lambda refuses to stack updates.
        current = client.wait_ready(self.name)
        self.plan.values["function_arn"] = current["FunctionArn"]
        said: list[str] = []
        assert self.existing is not None
        if self.image:
            code_same = self.existing.get("Code", {}).get("ImageUri") == self.options.image_uri
        else:
            code_same = current.get("CodeSha256") == self.package.lambda_code_sha256()
        if not code_same or current.get("Architectures", ["x86_64"]) != [self.arch]:
            client.call(
                "lambda",
                "UpdateFunctionCode",
                FunctionName=self.name,
                Architectures=[self.arch],
                **self._function_code(),
            )
            current = client.wait_ready(self.name)
            said.append("updated code")
        wanted = self._configuration()
        if self._config_differs(current, wanted):
            self._role_retry("UpdateFunctionConfiguration", FunctionName=self.name, **wanted)
            client.wait_ready(self.name)
            said.append("updated configuration")
        client.call("lambda", "TagResource", Resource=current["FunctionArn"], Tags=self._tags())
        return f"{' and '.join(said)} of {self.name}" if said else f"{self.name} unchanged"

    @staticmethod
    def _config_differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
        seen = {
            "Role": current.get("Role"),
            "MemorySize": current.get("MemorySize"),
            "Timeout": current.get("Timeout"),
            "Description": current.get("Description", ""),
            "Environment": {"Variables": (current.get("Environment") or {}).get("Variables") or {}},
            "Handler": current.get("Handler"),
            "Runtime": current.get("Runtime"),
            "Layers": [layer["Arn"] for layer in current.get("Layers") or []],
            "SnapStart": {"ApplyOn": (current.get("SnapStart") or {}).get("ApplyOn", "None")},
            "EphemeralStorage": {"Size": (current.get("EphemeralStorage") or {}).get("Size", 512)},
        }
        return any(seen[key] != value for key, value in wanted.items())

    def publish(self) -> str:
        client, values = self.client, self.plan.values
        config = client.wait_ready(self.name)
        # Lambda publishes nothing new when code and configuration are unchanged since the last
        # version; it returns that version, which is what makes redeploys converge. CodeSha256
        # guards against publishing code someone else uploaded in between.
        published = client.call(
            "lambda", "PublishVersion", FunctionName=self.name, CodeSha256=config["CodeSha256"]
        )
        version = str(published["Version"])
        client.wait_ready(self.name, version)
        alias = client.maybe("lambda", "GetAlias", FunctionName=self.name, Name=LIVE)
        values["version"] = version
        values["previous_version"] = alias["FunctionVersion"] if alias else None
        if alias is None:
            client.call(
                "lambda", "CreateAlias", FunctionName=self.name, Name=LIVE, FunctionVersion=version
            )
            return f"published version {version}, alias {LIVE} created"
        stable = str(alias["FunctionVersion"])
        weights = canary_weights(alias)
        percent = self.options.canary
        if percent is not None and stable != version:
            wanted = {version: round(percent / 100, 4)}
            values["canary"] = percent
            if weights == wanted:
                return f"canary: version {version} already gets {percent:g}% of {LIVE}"
            client.call(
                "lambda",
                "UpdateAlias",
                FunctionName=self.name,
                Name=LIVE,
                FunctionVersion=stable,
                RoutingConfig={"AdditionalVersionWeights": wanted},
            )
            return (
                f"canary: version {version} gets {percent:g}% of {LIVE}, version {stable} the "
                f"rest (`sklambda promote {self.name}` or `sklambda rollback {self.name}` ends it)"
            )
        if stable != version or weights:
            client.call(
                "lambda",
                "UpdateAlias",
                FunctionName=self.name,
                Name=LIVE,
                FunctionVersion=version,
                RoutingConfig={"AdditionalVersionWeights": {}},
            )
            ended = f" (canary of version {', '.join(weights)} ended)" if weights else ""
            if stable == version:
                return f"version {version} already {LIVE}{ended}"
            return f"version {version}, alias {LIVE} moved from {stable}{ended}"
        return f"version {version} already {LIVE}"

    def ensure_url(self) -> str:
        client, values = self.client, self.plan.values
        auth = "NONE" if self.options.public else "AWS_IAM"
        values["auth_type"] = auth
        found = client.maybe(
            "lambda", "GetFunctionUrlConfig", FunctionName=self.name, Qualifier=LIVE
        )
        cors = self.options.cors
        if found is None:
            extra = {"Cors": cors} if cors else {}
            made = client.call(
                "lambda",
                "CreateFunctionUrlConfig",
                FunctionName=self.name,
                Qualifier=LIVE,
                AuthType=auth,
                **extra,
            )
            values["url"] = made["FunctionUrl"]
            values["cors"] = cors
            return f"created function URL ({auth}{', CORS' if cors else ''})"
        values["url"] = found["FunctionUrl"]
        values["cors"] = found.get("Cors") or None
        said = []
        update: dict[str, Any] = {}
        if found.get("AuthType") != auth:
            update["AuthType"] = auth
            said.append(f"function URL auth {found.get('AuthType')} → {auth}")
        if self.options.cors_origins is not None and not self._same_cors(found):
            update["Cors"] = cors or {}
            values["cors"] = cors
            origins = ", ".join(cors["AllowOrigins"]) if cors else "none"
            said.append(f"function URL CORS origins: {origins}")
        if update:
            update.setdefault("AuthType", auth)
            client.call(
                "lambda",
                "UpdateFunctionUrlConfig",
                FunctionName=self.name,
                Qualifier=LIVE,
                **update,
            )
        return "; ".join(said)

    def _same_cors(self, found: dict[str, Any]) -> bool:
        from sklambda.aws.cors import same_cors

        return same_cors(found.get("Cors"), self.options.cors)

    def ensure_permissions(self) -> str:
        if self.options.public:
            added = [
                sid
                for sid in (PUBLIC_URL_SID, PUBLIC_INVOKE_SID)
                if ensure_public_permission(self.client, self.name, sid)
            ]
            return f"added public permissions {', '.join(added)}" if added else ""
        # Switching a public URL back to AWS_IAM must also take its public grants away.
        removed = remove_public_permissions(self.client, self.name)
        return f"removed public permissions {', '.join(removed)}" if removed else ""


# -- permissions -----------------------------------------------------------------------------------

_PUBLIC: dict[str, dict[str, Any]] = {
    PUBLIC_URL_SID: {
        "Action": "lambda:InvokeFunctionUrl",
        "Principal": "*",
        "FunctionUrlAuthType": "NONE",
    },
    PUBLIC_INVOKE_SID: {
        "Action": "lambda:InvokeFunction",
        "Principal": "*",
        "InvokedViaFunctionUrl": True,
    },
}


def statement_matches(statement: dict[str, Any], sid: str) -> bool:
    """Whether a policy statement is sklambda's public-URL grant ``sid``, as AWS renders it.

    AWS renders the request's condition parameters as ``Condition`` blocks
    (``StringEquals lambda:FunctionUrlAuthType``, ``Bool lambda:InvokedViaFunctionUrl``); moto keeps
    them as top-level keys. Both are accepted.
    """
    wanted = _PUBLIC[sid]
    principal = statement.get("Principal")
    if statement.get("Sid") != sid or statement.get("Effect", "Allow") != "Allow":
        return False
    if statement.get("Action") != wanted["Action"] or principal not in ("*", {"AWS": "*"}):
        return False
    if not str(statement.get("Resource", "")).endswith(f":{LIVE}"):
        return False
    condition = statement.get("Condition") or {}
    if sid == PUBLIC_URL_SID:
        value = statement.get("FunctionUrlAuthType") or condition.get("StringEquals", {}).get(
            "lambda:FunctionUrlAuthType"
        )
        return value == "NONE"
    value = statement.get("InvokedViaFunctionUrl")
    if value is None:
        value = condition.get("Bool", {}).get("lambda:InvokedViaFunctionUrl")
    return str(value).lower() == "true"


def ensure_public_permission(client: AwsClient, name: str, sid: str) -> bool:
    """Make sure statement ``sid`` grants what it should; True when it had to be added."""
    statements = client.policy_statements(name, LIVE)
    mine = [s for s in statements if s.get("Sid") == sid]
    if any(statement_matches(s, sid) for s in mine):
        return False
    if mine:  # same id, different grant (edited by hand): replace it
        client.call(
            "lambda", "RemovePermission", FunctionName=name, StatementId=sid, Qualifier=LIVE
        )
    try:
        client.call(
            "lambda",
            "AddPermission",
            FunctionName=name,
            Qualifier=LIVE,
            StatementId=sid,
            **_PUBLIC[sid],
        )
    except AwsError as exc:
        if exc.code != "ResourceConflictException":
            raise
        # Someone (an interrupted run, a parallel one) added it in between: verify it is ours.
        again = client.policy_statements(name, LIVE)
        if not any(statement_matches(s, sid) for s in again):
            raise DeployError(
                f"the function's policy has a statement {sid} that sklambda did not write; "
                f"remove it (aws lambda remove-permission --function-name {name} "
                f"--qualifier {LIVE} --statement-id {sid}) and deploy again"
            ) from exc
        return False
    return True


def remove_public_permissions(client: AwsClient, name: str) -> list[str]:
    present = {s.get("Sid") for s in client.policy_statements(name, LIVE)}
    removed = []
    for sid in (PUBLIC_URL_SID, PUBLIC_INVOKE_SID):
        if sid in present:
            try:
                client.call(
                    "lambda", "RemovePermission", FunctionName=name, StatementId=sid, Qualifier=LIVE
                )
            except AwsError as exc:
                if exc.code != "ResourceNotFoundException":
                    raise
            removed.append(sid)
    return removed


# -- the public entry points -----------------------------------------------------------------------


def plan_deploy(
    client: AwsClient, dist: str | Path | Package, name: str, options: DeployOptions | None = None
) -> tuple[Plan, Callable[[], DeployResult]]:
    """Read what exists and decide the steps; nothing is changed until the returned callable runs.

    Returns
    -------
    (plan, execute)
        ``plan.describe()`` lists the steps; ``execute()`` runs them and returns the result.
    """
    package = dist if isinstance(dist, Package) else read_package(dist)
    deployment = _Deployment(client, package, name, options or DeployOptions())
    plan = deployment.make_plan()
    return plan, lambda: _execute(deployment, None)


def dry_run(
    client: AwsClient, dist: str | Path | Package, name: str, options: DeployOptions | None = None
) -> list[str]:
    """What ``deploy`` would do, one line per step (``create``/``update``/``remove``/``leave``
    …); only reads, so nothing in the account changes."""
    plan, _ = plan_deploy(client, dist, name, options)
    return plan.preview()


def _execute(
    deployment: _Deployment,
    on_action: Callable[[str], None] | None,
    on_progress: Callable[[str], None] | None = None,
) -> DeployResult:
    plan = deployment.plan
    actions: list[str] = []
    for step in plan.steps:
        if on_progress:
            on_progress(f"{plan.name}: {step.description}…")
        said = step.run()
        for note in plan.values.pop("notes", []):
            actions.append(note)
            if on_action:
                on_action(note)
        if said:
            actions.append(said)
            if on_action:
                on_action(said)
    values = plan.values
    _record(deployment)
    return DeployResult(
        name=plan.name,
        region=deployment.client.region,
        url=values["url"],
        auth_type=values["auth_type"],
        version=values["version"],
        previous_version=values["previous_version"],
        function_arn=values["function_arn"],
        layer_arn=values.get("layer_arn"),
        role_arn=values["role_arn"],
        actions=tuple(actions),
        example=deployment.package.example_instance(),
        canary=values.get("canary"),
    )


def _record(deployment: _Deployment) -> None:
    """``DIST/deploy.json``: the URL and its CORS, for ``serve`` of the same package."""
    from sklambda.aws.cors import record

    values = deployment.plan.values
    # A read-only package directory: the deploy itself is done, only the record is missing.
    with contextlib.suppress(OSError):
        record(
            deployment.package.dist,
            values.get("cors"),
            name=deployment.name,
            url=values["url"],
            auth=values["auth_type"],
        )


def deploy(
    client: AwsClient,
    dist: str | Path | Package,
    name: str,
    options: DeployOptions | None = None,
    *,
    on_action: Callable[[str], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> DeployResult:
    """Deploy a built package as function ``name`` behind a function URL on alias ``live``.

    Parameters
    ----------
    client:
        Where to deploy (session, region, endpoint).
    dist:
        A package directory from ``sklambda build``.
    name:
        The Lambda function name.
    options:
        Memory, timeout, auth and the rest; see :class:`DeployOptions`.
    on_action:
        Called with each thing done, as it is done (for progress output).
    on_progress:
        Called with each step as it starts ("houses: create function…"); nothing is drawn
        here, the caller renders.

    Raises
    ------
    NotManagedError
        A same-named function (or role) exists that sklambda did not create, and
        ``options.adopt`` is false.
    AwsError
        Any AWS failure, translated (missing permission, size limit, credentials...).
    """
    package = dist if isinstance(dist, Package) else read_package(dist)
    deployment = _Deployment(client, package, name, options or DeployOptions())
    deployment.make_plan()
    return _execute(deployment, on_action, on_progress)
