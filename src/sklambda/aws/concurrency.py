"""Concurrency of a deployed function: reserved (``--max-concurrency``), provisioned on ``live``
(``--provisioned``) and SnapStart (``--snapstart``).

- Reserved concurrency caps the function: beyond it Lambda throttles, and the URL answers 429.
- Provisioned concurrency keeps N environments initialised on alias ``live`` (billed while idle);
  the deploy waits until Lambda reports it ``READY``. It comes out of the account's unreserved
  concurrency, of which Lambda keeps 100 free, so the room is checked before anything changes.
- SnapStart (python3.12+, zip functions) snapshots published versions after INIT and restores
  them on a cold start; Lambda does not offer it together with provisioned concurrency.

``None`` for a setting leaves what is deployed as it is; 0 removes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sklambda.aws.errors import AwsError, DeployError

if TYPE_CHECKING:
    from sklambda.aws.client import AwsClient
    from sklambda.aws.deployer import Step

LIVE = "live"
UNRESERVED_MINIMUM = 100  # Lambda keeps this much of the account's concurrency unreserved
PROVISION_WAIT = 900.0  # seconds; provisioning many environments takes minutes
SNAPSTART_RUNTIMES = ("python3.12", "python3.13", "python3.14")
COMBINATION = (
    "--snapstart and --provisioned cannot be combined: Lambda does not support SnapStart on a "
    "function version that has provisioned concurrency (both remove cold starts: SnapStart "
    "restores a snapshot at a small per-restore cost, provisioned concurrency keeps environments "
    "running, billed while idle); choose one"
)


def check_combination(snapstart: bool | None, provisioned: int | None) -> None:
    if snapstart and provisioned:
        raise DeployError(COMBINATION)
    if provisioned is not None and provisioned < 0:
        raise DeployError(f"--provisioned must be 0 (remove) or more, got {provisioned}")


def check_snapstart(runtime: str, image: bool) -> None:
    if image:
        raise DeployError(
            "--snapstart is for zip functions; Lambda does not offer SnapStart for container images"
        )
    if runtime not in SNAPSTART_RUNTIMES:
        raise DeployError(
            f"--snapstart needs python3.12 or newer (Lambda offers Python SnapStart from 3.12); "
            f"the package targets {runtime}: rebuild with --python 3.12"
        )


def reserved(client: AwsClient, name: str) -> int | None:
    found = client.maybe("lambda", "GetFunctionConcurrency", FunctionName=name)
    value = (found or {}).get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


def provisioned(client: AwsClient, name: str) -> dict[str, Any] | None:
    """The provisioned concurrency config of ``live``, or None (also when the API is absent)."""
    try:
        return client.maybe(
            "lambda", "GetProvisionedConcurrencyConfig", FunctionName=name, Qualifier=LIVE
        )
    except AwsError as exc:
        if exc.code in ("ProvisionedConcurrencyConfigNotFoundException",):
            return None
        raise


def unreserved_concurrency(client: AwsClient) -> int:
    settings = client.call("lambda", "GetAccountSettings")
    return int(settings["AccountLimit"]["UnreservedConcurrentExecutions"])


def check_room(
    client: AwsClient, name: str, wanted: int, reserved_wanted: int | None, exists: bool
) -> None:
    """Refuse ``--provisioned wanted`` (before anything changes) when the account cannot give it."""
    limit = reserved_wanted if reserved_wanted else (reserved(client, name) if exists else None)
    if limit is not None:
        if wanted > limit:
            raise DeployError(
                f"--provisioned {wanted} is more than the function's reserved concurrency "
                f"({limit}, --max-concurrency): raise --max-concurrency to at least {wanted} or "
                "lower --provisioned"
            )
        return
    current = provisioned(client, name) if exists else None
    already = int((current or {}).get("RequestedProvisionedConcurrentExecutions") or 0)
    unreserved = unreserved_concurrency(client)
    room = unreserved + already - UNRESERVED_MINIMUM
    if wanted > room:
        raise DeployError(
            f"--provisioned {wanted} does not fit: the account's unreserved concurrency in "
            f"{client.region} is {unreserved} and Lambda keeps {UNRESERVED_MINIMUM} of it "
            f"unreserved, so at most {max(room, 0)} can be provisioned here. Ask for a higher "
            "'Concurrent executions' quota (Service Quotas → AWS Lambda), or lower --provisioned"
        )


def _unreserved_error(exc: AwsError, what: str) -> DeployError:
    return DeployError(
        f"{what} was refused because the account's unreserved concurrency would fall below "
        f"{UNRESERVED_MINIMUM} ({exc}); ask for a higher 'Concurrent executions' quota "
        "(Service Quotas → AWS Lambda) or ask for less",
        exc.code,
    )


def converge_reserved(client: AwsClient, name: str, wanted: int) -> str:
    current = reserved(client, name)
    if wanted == 0:
        if current is None:
            return ""
        client.call("lambda", "DeleteFunctionConcurrency", FunctionName=name)
        return f"removed reserved concurrency ({current})"
    if current == wanted:
        return ""
    try:
        client.call(
            "lambda",
            "PutFunctionConcurrency",
            FunctionName=name,
            ReservedConcurrentExecutions=wanted,
        )
    except AwsError as exc:
        if "nreserved" in str(exc):
            raise _unreserved_error(exc, f"--max-concurrency {wanted}") from exc
        raise
    return f"reserved concurrency {wanted} (beyond it the URL answers 429)"


def converge_provisioned(client: AwsClient, name: str, wanted: int) -> str:
    current = provisioned(client, name)
    if wanted == 0:
        if current is None:
            return ""
        client.call(
            "lambda", "DeleteProvisionedConcurrencyConfig", FunctionName=name, Qualifier=LIVE
        )
        return "removed provisioned concurrency"
    requested = int((current or {}).get("RequestedProvisionedConcurrentExecutions") or 0)
    said = ""
    if current is None or requested != wanted:
        try:
            client.call(
                "lambda",
                "PutProvisionedConcurrencyConfig",
                FunctionName=name,
                Qualifier=LIVE,
                ProvisionedConcurrentExecutions=wanted,
            )
        except AwsError as exc:
            if "nreserved" in str(exc):
                raise _unreserved_error(exc, f"--provisioned {wanted}") from exc
            raise
        said = f"provisioned concurrency {wanted} on {LIVE}"
    waited = wait_provisioned(client, name)
    return said + (f" (READY after {waited:.0f} s)" if said and waited >= 1 else "")


def wait_provisioned(client: AwsClient, name: str) -> float:
    """Wait until ``live``'s provisioned concurrency is READY; the seconds it took."""
    start = client.clock()
    delay = 2.0
    while True:
        found = provisioned(client, name) or {}
        status = found.get("Status")
        if status == "READY":
            return client.clock() - start
        if status == "FAILED":
            raise DeployError(
                f"provisioned concurrency on {name}:{LIVE} FAILED: "
                f"{found.get('StatusReason') or 'no reason given'}; the function is deployed, "
                "fix the cause and deploy again (or --provisioned 0)"
            )
        if client.clock() - start > PROVISION_WAIT:
            raise DeployError(
                f"provisioned concurrency on {name}:{LIVE} is still {status} after "
                f"{PROVISION_WAIT:.0f} s; `sklambda status {name}` shows when it is READY"
            )
        client.sleep(delay)
        delay = min(delay * 1.5, 15.0)


def concurrency_steps(
    client: AwsClient,
    name: str,
    *,
    max_concurrency: int | None,
    provisioned_count: int | None,
    exists: bool,
) -> list[Step]:
    """Deploy steps for reserved then provisioned concurrency (after ``live`` exists)."""
    from sklambda.aws.deployer import Step

    steps: list[Step] = []
    if max_concurrency is not None:

        def preview_reserved() -> str:
            current = reserved(client, name) if exists else None
            if current == (max_concurrency or None):
                return f"leave reserved concurrency {current if current else 'unset'}"
            if max_concurrency == 0:
                return f"remove reserved concurrency ({current})"
            return f"{'update' if current else 'create'} reserved concurrency {max_concurrency}"

        steps.append(
            Step(
                "reserved concurrency",
                lambda: converge_reserved(client, name, max_concurrency),
                preview_reserved,
            )
        )
    if provisioned_count is not None:
        if provisioned_count:
            check_room(client, name, provisioned_count, max_concurrency, exists)

        def preview_provisioned() -> str:
            current = provisioned(client, name) if exists else None
            have = int((current or {}).get("RequestedProvisionedConcurrentExecutions") or 0)
            if have == provisioned_count:
                return f"leave provisioned concurrency {have or 'unset'}"
            if provisioned_count == 0:
                return f"remove provisioned concurrency ({have})"
            verb = "update" if have else "create"
            return f"{verb} provisioned concurrency {provisioned_count} on {LIVE} (wait READY)"

        steps.append(
            Step(
                f"provisioned concurrency on {LIVE}",
                lambda: converge_provisioned(client, name, provisioned_count),
                preview_provisioned,
            )
        )
    return steps
