"""``destroy``: remove what sklambda deployed for a function, and nothing else.

Removed, each only if it is there (so an interrupted destroy finishes on the next run): the
uploaded S3 objects, the public permissions, the function URL, alias ``live``, the function with
its versions, the layer versions whose description sklambda wrote, the role sklambda created
for this function, and its monitoring (alarms, their topic, the memory filter, Telegram alerts;
the log group stays, with its retention). Buckets, roles passed with ``--role-arn`` and anything
untagged stay.
"""

from __future__ import annotations

from dataclasses import dataclass

from sklambda.aws.client import AwsClient
from sklambda.aws.deployer import (
    BUCKET_TAG,
    FUNCTION_TAG,
    LAYER_MARK,
    LIVE,
    MANAGED_TAG,
    ROLE_TAG,
    check_name,
    is_managed,
    layer_name_for,
    remove_public_permissions,
    role_name_for,
)
from sklambda.aws.errors import NotManagedError
from sklambda.aws.warming import remove_keep_warm


@dataclass(frozen=True)
class DestroyResult:
    name: str
    actions: tuple[str, ...]


def destroy(client: AwsClient, name: str) -> DestroyResult:
    """Remove the function ``name`` and what sklambda created for it.

    Raises
    ------
    NotManagedError
        The function exists but sklambda did not create it (it is left alone).
    """
    check_name(name)
    actions: list[str] = []
    found = client.get_function(name)
    tags: dict[str, str] = {}
    if found is not None:
        tags = dict(found.get("Tags") or {})
        if not is_managed(tags):
            raise NotManagedError(
                f"function {name} was not created by sklambda (no {MANAGED_TAG} tag); "
                "sklambda destroy leaves it alone"
            )
        actions.extend(_remove_function(client, name, tags))
    else:  # an interrupted destroy: the schedule may have outlived the function
        actions.extend(remove_keep_warm(client, name))
    actions.extend(_remove_monitoring(client, name))

    layer_name = layer_name_for(name)
    for version in client.layer_versions(layer_name):
        if str(version.get("Description", "")).startswith(LAYER_MARK):
            client.maybe(
                "lambda",
                "DeleteLayerVersion",
                LayerName=layer_name,
                VersionNumber=version["Version"],
            )
            actions.append(f"deleted layer {layer_name} version {version['Version']}")

    # The role goes only when sklambda made it for this very function; a role given with
    # --role-arn is recorded as "external" on the function and never looked at.
    if tags.get(ROLE_TAG, "created") == "created":
        role_name = role_name_for(name)
        role = client.get_role(role_name)
        if (
            role is not None
            and role["TagMap"].get(MANAGED_TAG) == "true"
            and role["TagMap"].get(FUNCTION_TAG) == name
        ):
            for policy in client.pages(
                "iam", "ListRolePolicies", "PolicyNames", RoleName=role_name
            ):
                client.maybe("iam", "DeleteRolePolicy", RoleName=role_name, PolicyName=policy)
            for attached in client.pages(
                "iam", "ListAttachedRolePolicies", "AttachedPolicies", RoleName=role_name
            ):
                client.maybe(
                    "iam", "DetachRolePolicy", RoleName=role_name, PolicyArn=attached["PolicyArn"]
                )
            client.maybe("iam", "DeleteRole", RoleName=role_name)
            actions.append(f"deleted role {role_name}")
    return DestroyResult(name, tuple(actions))


def _remove_function(client: AwsClient, name: str, tags: dict[str, str]) -> list[str]:
    """The S3 objects, keep-warm schedule, URL, alias ``live`` and the function itself."""
    actions: list[str] = []
    bucket = tags.get(BUCKET_TAG)
    if bucket:
        deleted = client.delete_prefix(bucket, f"sklambda/{name}/")
        if deleted:
            actions.append(f"deleted {deleted} S3 objects in {bucket}")
    actions.extend(remove_keep_warm(client, name))
    if client.maybe("lambda", "GetAlias", FunctionName=name, Name=LIVE) is not None:
        removed = remove_public_permissions(client, name)
        if removed:
            actions.append(f"removed permissions {', '.join(removed)}")
        if client.maybe("lambda", "GetFunctionUrlConfig", FunctionName=name, Qualifier=LIVE):
            client.maybe("lambda", "DeleteFunctionUrlConfig", FunctionName=name, Qualifier=LIVE)
            actions.append("deleted function URL")
        client.maybe("lambda", "DeleteAlias", FunctionName=name, Name=LIVE)
        actions.append(f"deleted alias {LIVE}")
    client.maybe("lambda", "DeleteFunction", FunctionName=name)
    actions.append(f"deleted function {name} and its versions")
    return actions


def _remove_monitoring(client: AwsClient, name: str) -> list[str]:
    """Alerts, alarms, their topic and the memory filter (sklambda.monitor, issue #13)."""
    from sklambda.monitor.watch import remove_monitoring

    return remove_monitoring(client, name)
