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

    def __post_init__(self) -> None:
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

    def example_command(self) -> str:
        """A ready-to-run request: curl for a public URL, awscurl (SigV4) for ``AWS_IAM``."""
        body = shlex.quote(json.dumps({"instances": [self.example]}))
        if self.auth_type == "NONE":
            return f"curl -s {self.url} -H 'content-type: application/json' -d {body}"
        return (
            f"awscurl --service lambda --region {self.region} -X POST "
            f"-H 'content-type: application/json' -d {body} {self.url}"
        )


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
    """One thing the executor will do; ``run`` returns what happened (``""``: nothing to say)."""

    description: str
    run: Callable[[], str]


@dataclass
class Plan:
    """Steps decided from what exists, and the values they fill in as they run."""

    name: str
    steps: list[Step] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> list[str]:
        return [step.description for step in self.steps]


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
        steps = self.plan.steps
        if options.role_arn:
            self.plan.values["role_arn"] = options.role_arn
        else:
            steps.append(Step(f"execution role {role_name_for(self.name)}", self.ensure_role))
        if pkg.layer_zip is not None and not self.image:
            steps.append(Step(f"layer {layer_name_for(self.name)}", self.ensure_layer))
        if found is None:
            steps.append(Step(f"function {self.name}", self.create_function))
        else:
            steps.append(Step(f"function {self.name}", self.update_function))
        steps.append(Step(f"version and alias {LIVE}", self.publish))
        steps.append(Step("function URL", self.ensure_url))
        steps.append(Step("URL permissions", self.ensure_permissions))
        steps.extend(self._monitoring_steps())
        return self.plan

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
        self.plan.values["role_arn"] = arn
        self.plan.values["role_managed"] = True
        return said

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
        for version in client.layer_versions(layer_name):
            if (
                version.get("Description") == description
                and self.arch in (version.get("CompatibleArchitectures") or [self.arch])
                and pkg.runtime in (version.get("CompatibleRuntimes") or [pkg.runtime])
            ):
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
        config: dict[str, Any] = {
            "Role": values["role_arn"],
            "MemorySize": options.memory,
            "Timeout": options.timeout,
            "Description": f"sklambda: model {pkg.model_name} {pkg.model_version}".strip(),
            "Environment": {"Variables": dict(options.env)},
        }
        if not self.image:
            config["Handler"] = pkg.handler
            config["Runtime"] = pkg.runtime
            config["Layers"] = [values["layer_arn"]] if values.get("layer_arn") else []
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
        if alias["FunctionVersion"] != version:
            client.call(
                "lambda", "UpdateAlias", FunctionName=self.name, Name=LIVE, FunctionVersion=version
            )
            return f"version {version}, alias {LIVE} moved from {alias['FunctionVersion']}"
        return f"version {version} already {LIVE}"

    def ensure_url(self) -> str:
        client, values = self.client, self.plan.values
        auth = "NONE" if self.options.public else "AWS_IAM"
        values["auth_type"] = auth
        found = client.maybe(
            "lambda", "GetFunctionUrlConfig", FunctionName=self.name, Qualifier=LIVE
        )
        if found is None:
            made = client.call(
                "lambda",
                "CreateFunctionUrlConfig",
                FunctionName=self.name,
                Qualifier=LIVE,
                AuthType=auth,
            )
            values["url"] = made["FunctionUrl"]
            return f"created function URL ({auth})"
        values["url"] = found["FunctionUrl"]
        if found.get("AuthType") != auth:
            client.call(
                "lambda",
                "UpdateFunctionUrlConfig",
                FunctionName=self.name,
                Qualifier=LIVE,
                AuthType=auth,
            )
            return f"function URL auth {found.get('AuthType')} → {auth}"
        return ""

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
