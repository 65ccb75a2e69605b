"""``status`` (what is deployed) and ``rollback`` (move ``live`` to another version)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sklambda.aws.client import AwsClient
from sklambda.aws.deployer import (
    LIVE,
    PUBLIC_INVOKE_SID,
    PUBLIC_URL_SID,
    canary_weights,
    is_managed,
)
from sklambda.aws.errors import DeployError, NotManagedError


@dataclass(frozen=True)
class VersionInfo:
    version: str
    code_sha256: str
    last_modified: str
    description: str


@dataclass(frozen=True)
class Status:
    """A deployed function as sklambda sees it.

    Attributes
    ----------
    live_version:
        The version alias ``live`` points at (``None`` when there is no alias).
    url, auth_type:
        The function URL on ``live`` and its ``AuthType`` (``None`` when there is no URL).
    public_permissions:
        The sklambda statement ids present in the function's policy.
    """

    name: str
    region: str
    function_arn: str
    managed: bool
    live_version: str | None
    versions: tuple[VersionInfo, ...]
    url: str | None
    auth_type: str | None
    public_permissions: tuple[str, ...]
    memory: int
    timeout: int
    runtime: str
    arch: str
    code_size: int
    last_modified: str
    last_update_status: str
    state: str
    layers: tuple[str, ...]
    tags: dict[str, str]
    canary: dict[str, float] | None = None
    """Versions ``live`` sends a share to (weights 0-1) while a canary runs."""
    operating: dict[str, Any] | None = None
    """Keep-warm, reserved and provisioned concurrency, SnapStart, CORS (what deploy set)."""

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _require(client: AwsClient, name: str) -> dict[str, Any]:
    found = client.get_function(name)
    if found is None:
        raise DeployError(
            f"no function named {name} in {client.region}; check --name and --region "
            "(`sklambda deploy DIST --name NAME` creates it)"
        )
    return found


def status(client: AwsClient, name: str) -> Status:
    """Read a function's versions, alias, URL, permissions and configuration."""
    found = _require(client, name)
    config: dict[str, Any] = found["Configuration"]
    alias = client.maybe("lambda", "GetAlias", FunctionName=name, Name=LIVE)
    url = (
        client.maybe("lambda", "GetFunctionUrlConfig", FunctionName=name, Qualifier=LIVE)
        if alias
        else None
    )
    sids = {s.get("Sid") for s in client.policy_statements(name, LIVE)} if alias else set()
    versions = tuple(
        VersionInfo(
            version=str(v["Version"]),
            code_sha256=str(v.get("CodeSha256", "")),
            last_modified=str(v.get("LastModified", "")),
            description=str(v.get("Description", "")),
        )
        for v in client.versions(name)
    )
    return Status(
        name=name,
        region=client.region,
        function_arn=config["FunctionArn"],
        managed=is_managed(found.get("Tags")),
        live_version=alias["FunctionVersion"] if alias else None,
        canary=canary_weights(alias) if alias else {},
        versions=versions,
        url=url["FunctionUrl"] if url else None,
        auth_type=url.get("AuthType") if url else None,
        public_permissions=tuple(s for s in (PUBLIC_URL_SID, PUBLIC_INVOKE_SID) if s in sids),
        memory=int(config.get("MemorySize", 0)),
        timeout=int(config.get("Timeout", 0)),
        runtime=str(config.get("Runtime", "image")),
        arch=(config.get("Architectures") or ["x86_64"])[0],
        code_size=int(config.get("CodeSize", 0)),
        last_modified=str(config.get("LastModified", "")),
        last_update_status=str(config.get("LastUpdateStatus", "Successful")),
        state=str(config.get("State", "Active")),
        layers=tuple(layer["Arn"] for layer in config.get("Layers") or []),
        tags=dict(found.get("Tags") or {}),
        operating=_operating(client, name, config, url, alias is not None),
    )


def _operating(
    client: AwsClient,
    name: str,
    config: dict[str, Any],
    url: dict[str, Any] | None,
    has_alias: bool,
) -> dict[str, Any]:
    """What issue #14's options left on the function; a part the identity may not read is
    reported as such, the rest still shown."""
    from sklambda.aws import concurrency, warming
    from sklambda.aws.errors import AwsError

    def read(call: Any) -> Any:
        try:
            return call()
        except AwsError as exc:
            return f"unreadable: {exc}"

    def keep_warm() -> dict[str, Any] | None:
        rules = warming.existing_rules(client, name)
        if not rules:
            return None
        targets = sum(
            len(client.call("events", "ListTargetsByRule", Rule=r["Name"]).get("Targets", []))
            for r in rules.values()
        )
        schedules = sorted({str(r.get("ScheduleExpression")) for r in rules.values()})
        return {"schedule": ", ".join(schedules), "pings": targets}

    def provisioned() -> dict[str, Any] | None:
        found = concurrency.provisioned(client, name) if has_alias else None
        if not found:
            return None
        return {
            "requested": found.get("RequestedProvisionedConcurrentExecutions"),
            "status": found.get("Status"),
        }

    return {
        "keep_warm": read(keep_warm),
        "reserved_concurrency": read(lambda: concurrency.reserved(client, name)),
        "provisioned": read(provisioned),
        "snapstart": (config.get("SnapStart") or {}).get("ApplyOn", "None"),
        "cors": (url or {}).get("Cors"),
        "ephemeral_storage_mb": (config.get("EphemeralStorage") or {}).get("Size", 512),
    }


@dataclass(frozen=True)
class RollbackResult:
    name: str
    from_version: str
    to_version: str


def rollback(client: AwsClient, name: str, to: str | None = None) -> RollbackResult:
    """Point ``live`` at version ``to`` (default: the newest version older than the live one).

    The function URL, its permissions and the code stay; only the alias moves, so rolling
    forward again is ``rollback --to N`` or a redeploy.
    """
    found = _require(client, name)
    if not is_managed(found.get("Tags")):
        raise NotManagedError(f"function {name} was not deployed by sklambda; not touching it")
    alias = client.maybe("lambda", "GetAlias", FunctionName=name, Name=LIVE)
    if alias is None:
        raise DeployError(f"function {name} has no alias {LIVE}; deploy it again first")
    current = str(alias["FunctionVersion"])
    weights = canary_weights(alias)
    if weights and to is None:  # a canary runs: ending it is the rollback
        _route(client, name, current)
        return RollbackResult(name, ", ".join(weights), current)
    versions = [str(v["Version"]) for v in client.versions(name)]
    if to is None:
        older = [v for v in versions if int(v) < int(current)] if current.isdigit() else []
        if not older:
            raise DeployError(
                f"{LIVE} is at version {current}, the oldest there is; nothing to roll back to"
            )
        target = older[-1]
    else:
        target = str(to)
        if target not in versions:
            raise DeployError(
                f"function {name} has no version {target}; it has {', '.join(versions) or 'none'}"
            )
    if target != current or weights:
        client.wait_ready(name, target)
        _route(client, name, target)
    return RollbackResult(name, current, target)


def _route(client: AwsClient, name: str, version: str) -> None:
    """All of ``live`` to ``version``, no canary."""
    client.call(
        "lambda",
        "UpdateAlias",
        FunctionName=name,
        Name=LIVE,
        FunctionVersion=version,
        RoutingConfig={"AdditionalVersionWeights": {}},
    )


def promote(client: AwsClient, name: str) -> RollbackResult:
    """End a canary by sending all of ``live`` to the canary's version."""
    found = _require(client, name)
    if not is_managed(found.get("Tags")):
        raise NotManagedError(f"function {name} was not deployed by sklambda; not touching it")
    alias = client.maybe("lambda", "GetAlias", FunctionName=name, Name=LIVE)
    if alias is None:
        raise DeployError(f"function {name} has no alias {LIVE}; deploy it again first")
    weights = canary_weights(alias)
    current = str(alias["FunctionVersion"])
    if not weights:
        raise DeployError(
            f"no canary runs on {name}:{LIVE} (all of it goes to version {current}); "
            f"`sklambda deploy DIST --name {name} --canary 10` starts one"
        )
    (version,) = list(weights)
    client.wait_ready(name, version)
    _route(client, name, version)
    return RollbackResult(name, current, version)
