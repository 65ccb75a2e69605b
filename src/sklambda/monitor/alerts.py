"""``sklambda alerts telegram|test|remove``: the notifier deployed, subscribed, tested, removed.

What ``telegram`` converges (each step "make it so", safe to re-run):

1. the bot token: stored as an SSM SecureString ``/sklambda/NAME/telegram-token`` (from stdin;
   tagged, so ``remove`` deletes it), or an existing SecureString / Secrets Manager secret named
   by the user (checked, never read, never deleted);
2. the notifier package (built and proven now, or a directory from ``alerts package``);
3. its role (its own logs, read access to that one token, nothing else);
4. the notifier function ``sklambda-alerts-NAME`` (tagged; reserved concurrency 1 where the
   account allows it, so one environment aggregates every batch);
5. the permissions that let CloudWatch Logs and SNS invoke it;
6. the model's log group with the subscription filter ``sklambda-alerts`` (errors, timeouts,
   init failures, out-of-memory), and the alarm topic with a subscription of the notifier.

The token is never put in the package, an environment variable, a template or a log line: the
notifier's environment holds the parameter's name; the chat id is not a secret.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklambda.aws.client import AwsClient
from sklambda.aws.deployer import (
    FUNCTION_TAG,
    MANAGED_TAG,
    ROLE_WAIT,
    check_name,
    is_managed,
    role_name_for,
)
from sklambda.aws.errors import AwsError, DeployError, NotManagedError
from sklambda.aws.package import Package, read_package
from sklambda.monitor import alarms, loggroups
from sklambda.monitor.errors import MonitorError
from sklambda.monitor.notifier import handler as notifier
from sklambda.monitor.notifier.logevents import FILTER_PATTERN

ALERTS_TAG = "sklambda:alerts-for"
LOGS_SID = "sklambda-logs-subscription"
SNS_SID = "sklambda-alarm-topic"
TOKEN = re.compile(r"^\d{3,12}:[A-Za-z0-9_-]{20,}$")  # Telegram's bot token shape
NOTIFIER_MEMORY = 128
NOTIFIER_TIMEOUT = 60  # room to wait out a 429's retry_after


def notifier_name(name: str) -> str:
    """``sklambda-alerts-NAME``: the notifier function and its role (64 characters at most,
    shortened with a digest as role names are)."""
    return role_name_for(f"alerts-{name}")


def token_parameter_name(name: str) -> str:
    return f"/sklambda/{name}/telegram-token"


@dataclass(frozen=True)
class AlertsResult:
    name: str
    notifier: str
    notifier_arn: str
    token_parameter: str | None
    token_secret: str | None
    actions: tuple[str, ...]


@dataclass(frozen=True)
class TokenSource:
    """Where the notifier reads the token: an SSM parameter or a Secrets Manager secret."""

    parameter: str | None = None
    secret: str | None = None
    value: str | None = None  # a token to store in ``parameter`` (from stdin), never printed

    def __post_init__(self) -> None:
        if (self.parameter is None) == (self.secret is None):
            raise MonitorError("name exactly one of a token parameter or a token secret")
        if self.value is not None and not TOKEN.match(self.value):
            raise MonitorError(
                "that is not a Telegram bot token (digits, a colon, then at least 20 letters, "
                "digits, - or _, as @BotFather gives it); nothing was stored"
            )


def _owned(tags: dict[str, str] | None, name: str) -> bool:
    tags = tags or {}
    return tags.get(MANAGED_TAG) == "true" and tags.get(ALERTS_TAG) == name


# -- the token ------------------------------------------------------------------------------------


def _ensure_token(client: AwsClient, name: str, source: TokenSource) -> tuple[str, str]:
    """Store or check the token; ``(IAM resource ARN it is read from, what was done)``."""
    region = client.region
    if source.secret is not None:
        found = client.maybe("secretsmanager", "DescribeSecret", SecretId=source.secret)
        if found is None:
            raise MonitorError(f"no Secrets Manager secret {source.secret} in {region}")
        return str(found["ARN"]), f"token read from secret {source.secret}"
    parameter = str(source.parameter)
    arn = alarms.arn(client, "ssm", f"parameter/{parameter.lstrip('/')}")
    current = _parameter(client, parameter)
    if source.value is None:
        if current is None:
            raise MonitorError(
                f"no SSM parameter {parameter} in {region}; store the token with "
                "--token-from-stdin, or create it as a SecureString"
            )
        if current["Type"] != "SecureString":
            raise MonitorError(
                f"SSM parameter {parameter} is a {current['Type']}; a bot token must be a "
                "SecureString (encrypted at rest)"
            )
        return arn, f"token read from parameter {parameter}"
    params: dict[str, Any] = {"Name": parameter, "Value": source.value, "Type": "SecureString"}
    if current is None:
        tags = [{"Key": MANAGED_TAG, "Value": "true"}, {"Key": ALERTS_TAG, "Value": name}]
        description = f"sklambda: Telegram bot token for the alerts of {name}"
        client.call("ssm", "PutParameter", Description=description, Tags=tags, **params)
        return arn, f"stored the token as SecureString {parameter}"
    if not _owned(_parameter_tags(client, parameter), name):
        raise NotManagedError(
            f"SSM parameter {parameter} exists and was not stored by sklambda for {name}; "
            "pass --token-parameter to use it as it is"
        )
    stored = client.call("ssm", "GetParameter", Name=parameter, WithDecryption=True)
    if stored["Parameter"]["Value"] == source.value:
        return arn, ""
    # SSM takes no tags with Overwrite: the ones written at creation stay.
    client.call("ssm", "PutParameter", Overwrite=True, **params)
    return arn, f"replaced the token in {parameter}"


def _parameter(client: AwsClient, parameter: str) -> dict[str, Any] | None:
    found = client.call(
        "ssm",
        "DescribeParameters",
        ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [parameter]}],
    )
    return next(iter(found.get("Parameters", [])), None)


def _parameter_tags(client: AwsClient, parameter: str) -> dict[str, str]:
    found = client.call(
        "ssm", "ListTagsForResource", ResourceType="Parameter", ResourceId=parameter
    )
    return {t["Key"]: t["Value"] for t in found.get("TagList", [])}


# -- the notifier's role and function -------------------------------------------------------


def _role_policy(client: AwsClient, function: str, token_arn: str) -> dict[str, Any]:
    region = client.region
    group = alarms.arn(client, "logs", f"log-group:{loggroups.log_group_name(function)}")
    read = (
        "secretsmanager:GetSecretValue" if ":secretsmanager:" in token_arn else "ssm:GetParameter"
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{group}:*",
            },
            {"Effect": "Allow", "Action": read, "Resource": token_arn},
            {
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": [
                            f"ssm.{region}.amazonaws.com",
                            f"secretsmanager.{region}.amazonaws.com",
                        ]
                    }
                },
            },
        ],
    }


def _ensure_role(client: AwsClient, name: str, function: str, token_arn: str) -> tuple[str, str]:
    from sklambda.aws.deployer import ASSUME_ROLE_POLICY

    role_name = function  # sklambda-alerts-NAME, within IAM's 64 characters too
    role = client.get_role(role_name)
    said = ""
    if role is None:
        role = client.call(
            "iam",
            "CreateRole",
            RoleName=role_name,
            AssumeRolePolicyDocument=json.dumps(ASSUME_ROLE_POLICY),
            Description=f"sklambda: the Telegram notifier of {name}",
            Tags=[
                {"Key": MANAGED_TAG, "Value": "true"},
                {"Key": FUNCTION_TAG, "Value": function},
                {"Key": ALERTS_TAG, "Value": name},
            ],
        )["Role"]
        said = f"created role {role_name}"
    elif not _owned(role["TagMap"], name):
        raise NotManagedError(f"an IAM role named {role_name} exists and is not sklambda's")
    client.call(
        "iam",
        "PutRolePolicy",
        RoleName=role_name,
        PolicyName="sklambda-notifier",
        PolicyDocument=json.dumps(_role_policy(client, function, token_arn)),
    )
    return str(role["Arn"]), said


def _environment(
    name: str,
    model_tags: dict[str, str],
    chat_id: str,
    source: TokenSource,
    api_url: str | None,
    window_s: float,
) -> dict[str, str]:
    env = {
        notifier.CHAT_ID_ENV: chat_id,
        notifier.FUNCTION_ENV: name,
        notifier.MODEL_ENV: model_tags.get("sklambda:model", name),
        notifier.MODEL_VERSION_ENV: model_tags.get("sklambda:model-version", ""),
        notifier.WINDOW_ENV: f"{window_s:g}",
    }
    if source.parameter is not None:
        env[notifier.TOKEN_PARAMETER_ENV] = source.parameter
    else:
        env[notifier.TOKEN_SECRET_ENV] = str(source.secret)
    if api_url:
        env[notifier.API_URL_ENV] = api_url
    return env


def _create_retrying(client: AwsClient, params: dict[str, Any]) -> dict[str, Any]:
    """CreateFunction, retried while IAM has not yet propagated the role just made."""
    deadline, delay = client.clock() + ROLE_WAIT, 2.0
    while True:
        try:
            return client.call("lambda", "CreateFunction", **params)
        except AwsError as exc:
            if "assume" not in str(exc) or client.clock() > deadline:
                raise
            client.sleep(delay)
            delay = min(delay * 1.5, 10.0)


def _ensure_function(
    client: AwsClient, name: str, package: Package, role_arn: str, env: dict[str, str]
) -> tuple[str, list[str]]:
    function = notifier_name(name)
    tags = {MANAGED_TAG: "true", FUNCTION_TAG: function, ALERTS_TAG: name}
    config: dict[str, Any] = {
        "Role": role_arn,
        "Handler": package.handler,
        "Runtime": package.runtime,
        "MemorySize": NOTIFIER_MEMORY,
        "Timeout": NOTIFIER_TIMEOUT,
        "Description": f"sklambda: Telegram alerts of {name}",
        "Environment": {"Variables": env},
    }
    assert package.function_zip is not None
    found = client.get_function(function)
    if found is None:
        made = _create_retrying(
            client,
            {
                "FunctionName": function,
                "Code": {"ZipFile": package.function_zip.read_bytes()},
                "Architectures": [package.arch],
                "Tags": tags,
                **config,
            },
        )
        client.wait_ready(function)
        return str(made["FunctionArn"]), [f"created notifier {function}"]
    if not _owned(found.get("Tags"), name):
        raise NotManagedError(f"a function named {function} exists and is not sklambda's")
    said = []
    current = client.wait_ready(function)
    if current.get("CodeSha256") != package.lambda_code_sha256():
        client.call(
            "lambda",
            "UpdateFunctionCode",
            FunctionName=function,
            ZipFile=package.function_zip.read_bytes(),
            Architectures=[package.arch],
        )
        current = client.wait_ready(function)
        said.append("updated the notifier's code")
    seen = {key: current.get(key) for key in config if key != "Environment"}
    seen["Environment"] = {"Variables": (current.get("Environment") or {}).get("Variables") or {}}
    if seen != config:
        client.call("lambda", "UpdateFunctionConfiguration", FunctionName=function, **config)
        client.wait_ready(function)
        said.append("updated the notifier's configuration")
    return str(current["FunctionArn"]), said


def _one_at_a_time(client: AwsClient, function: str) -> str:
    """Reserved concurrency 1, so that one environment aggregates every batch (best effort:
    an account whose unreserved concurrency would drop below 100 refuses it)."""
    found = client.maybe("lambda", "GetFunctionConcurrency", FunctionName=function) or {}
    if found.get("ReservedConcurrentExecutions") == 1:
        return ""
    try:
        client.call(
            "lambda",
            "PutFunctionConcurrency",
            FunctionName=function,
            ReservedConcurrentExecutions=1,
        )
    except AwsError as exc:
        return f"reserved concurrency 1 refused ({exc.code}): bursts may take a few messages"
    return "reserved concurrency 1 (one environment aggregates every batch)"


def _permit(client: AwsClient, function: str, sid: str, principal: str, source: str) -> str:
    statements = client.policy_statements(function, None)
    mine = [s for s in statements if s.get("Sid") == sid]
    if any(source in json.dumps(s) for s in mine):
        return ""
    if mine:
        client.call("lambda", "RemovePermission", FunctionName=function, StatementId=sid)
    client.call(
        "lambda",
        "AddPermission",
        FunctionName=function,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal=principal,
        SourceArn=source,
        SourceAccount=client.account_id,
    )
    return f"allowed {principal} to invoke the notifier"


# -- the subscriptions ----------------------------------------------------------------------------


def _subscribe_logs(client: AwsClient, name: str, notifier_arn: str) -> str:
    group = loggroups.log_group_name(name)
    current = loggroups.subscription(client, name)
    if (
        current is not None
        and current.get("destinationArn") == notifier_arn
        and current.get("filterPattern") == FILTER_PATTERN
    ):
        return ""
    client.call(
        "logs",
        "PutSubscriptionFilter",
        logGroupName=group,
        filterName=loggroups.SUBSCRIPTION_FILTER,
        filterPattern=FILTER_PATTERN,
        destinationArn=notifier_arn,
    )
    return f"subscription filter {loggroups.SUBSCRIPTION_FILTER} on {group}"


def _topic_subscriptions(client: AwsClient, topic_arn: str, endpoint: str) -> list[str]:
    found = client.maybe("sns", "ListSubscriptionsByTopic", TopicArn=topic_arn) or {}
    return [
        s["SubscriptionArn"]
        for s in found.get("Subscriptions", [])
        if s.get("Endpoint") == endpoint and s.get("Protocol") == "lambda"
    ]


def _subscribe_topic(client: AwsClient, topic_arn: str, notifier_arn: str) -> str:
    if _topic_subscriptions(client, topic_arn, notifier_arn):
        return ""
    client.call("sns", "Subscribe", TopicArn=topic_arn, Protocol="lambda", Endpoint=notifier_arn)
    return f"subscribed the notifier to {topic_arn.rsplit(':', 1)[-1]}"


# -- the public entry points ----------------------------------------------------------------------


def setup_telegram(
    client: AwsClient,
    name: str,
    *,
    chat_id: str,
    token: TokenSource,
    api_url: str | None = None,
    dist: str | Path | None = None,
    window_s: float = notifier.DEFAULT_WINDOW_S,
    log_retention_days: int | None = 30,
    on_progress: Callable[[str], None] | None = None,
) -> AlertsResult:
    """Deploy (or converge) Telegram alerts for the deployed function ``name``.

    Parameters
    ----------
    chat_id:
        The chat, group or channel the bot posts to.
    token:
        Where the bot token is (and, with ``value``, the token to store there).
    api_url:
        The Bot API base (default ``https://api.telegram.org``); a stand-in's for tests.
    dist:
        A notifier package from ``sklambda alerts package``; default: built and proven now.
    window_s:
        After a message, batches of the next ``window_s`` seconds are folded into the next one.

    Raises
    ------
    NotManagedError
        When the function (or a resource of a name sklambda uses) is not sklambda's.
    MonitorError
        When the chat id, the token or its parameter cannot be used.
    """
    say = on_progress or (lambda _message: None)
    check_name(name)
    if not re.match(r"^-?\d{1,20}$|^@[A-Za-z][A-Za-z0-9_]{3,}$", chat_id):
        raise MonitorError(
            f'chat id "{chat_id}" is not a Telegram chat id: a number (negative for groups) or '
            "@channelname"
        )
    found = client.get_function(name)
    if found is None:
        raise DeployError(f"no function named {name} in {client.region}; deploy it first")
    if not is_managed(found.get("Tags")):
        raise NotManagedError(f"function {name} was not deployed by sklambda; not touching it")
    actions: list[str] = []

    def did(*said: str) -> None:
        actions.extend(s for s in said if s)

    say("checking the bot token's home…")
    token_arn, stored = _ensure_token(client, name, token)
    did(stored)
    with tempfile.TemporaryDirectory(prefix="sklambda-notifier-") as tmp:
        package = _notifier_package(dist, Path(tmp) / "notifier", say)
        function = notifier_name(name)
        say(f"notifier {function}…")
        role_arn, said = _ensure_role(client, name, function, token_arn)
        did(said)
        env = _environment(name, dict(found.get("Tags") or {}), chat_id, token, api_url, window_s)
        notifier_arn, said_list = _ensure_function(client, name, package, role_arn, env)
        did(*said_list)
    did(_one_at_a_time(client, function))
    did(
        *loggroups.ensure_log_group(
            client, loggroups.log_group_name(function), log_retention_days, name
        )
    )
    say("subscriptions…")
    did(*loggroups.ensure_log_group(client, loggroups.log_group_name(name), None, name))
    did(
        _permit(
            client, function, LOGS_SID, "logs.amazonaws.com", loggroups.log_group_arn(client, name)
        )
    )
    did(_subscribe_logs(client, name, notifier_arn))
    topic_arn, created = alarms.ensure_topic(client, name)
    did(f"created SNS topic {alarms.topic_name(name)}" if created else "")
    did(_permit(client, function, SNS_SID, "sns.amazonaws.com", topic_arn))
    did(_subscribe_topic(client, topic_arn, notifier_arn))
    return AlertsResult(name, function, notifier_arn, token.parameter, token.secret, tuple(actions))


def _notifier_package(dist: str | Path | None, tmp: Path, say: Callable[[str], None]) -> Package:
    if dist is None:
        from sklambda.monitor.packaging import build_notifier

        dist = build_notifier(tmp, on_progress=say).dist
    package = read_package(dist)
    if package.report.get("kind") != "notifier":
        raise MonitorError(
            f"{package.dist} is not a notifier package; write one with "
            "`sklambda alerts package --out DIST`"
        )
    return package


def remove_alerts(client: AwsClient, name: str) -> list[str]:
    """Remove the notifier of ``name`` and what it needs; what was done (nothing else touched)."""
    check_name(name)
    said: list[str] = []
    function = notifier_name(name)
    found = client.get_function(function)
    notifier_arn = found["Configuration"]["FunctionArn"] if found else None
    if found is not None and not _owned(found.get("Tags"), name):
        raise NotManagedError(f"function {function} is not sklambda's notifier of {name}")
    current = loggroups.subscription(client, name)
    # Only a subscription that delivers to this notifier (a user's own filter stays).
    if current is not None and current["destinationArn"].endswith(f":function:{function}"):
        client.maybe(
            "logs",
            "DeleteSubscriptionFilter",
            logGroupName=loggroups.log_group_name(name),
            filterName=loggroups.SUBSCRIPTION_FILTER,
        )
        said.append(f"deleted subscription filter {loggroups.SUBSCRIPTION_FILTER}")
    topic_arn = alarms.topic_arn(client, name)
    endpoint = notifier_arn or alarms.arn(client, "lambda", f"function:{function}")
    for subscription in _topic_subscriptions(client, topic_arn, endpoint):
        client.call("sns", "Unsubscribe", SubscriptionArn=subscription)
        said.append(f"unsubscribed the notifier from {alarms.topic_name(name)}")
    if found is not None:
        client.maybe("lambda", "DeleteFunction", FunctionName=function)
        said.append(f"deleted notifier {function}")
    said += _remove_role(client, name, function)
    parameter = token_parameter_name(name)
    if _parameter(client, parameter) is not None and _owned(
        _parameter_tags(client, parameter), name
    ):
        client.call("ssm", "DeleteParameter", Name=parameter)
        said.append(f"deleted SSM parameter {parameter}")
    return said


def _remove_role(client: AwsClient, name: str, function: str) -> list[str]:
    role_name = function
    role = client.get_role(role_name)
    if role is None or not _owned(role["TagMap"], name):
        return []
    for policy in client.pages("iam", "ListRolePolicies", "PolicyNames", RoleName=role_name):
        client.maybe("iam", "DeleteRolePolicy", RoleName=role_name, PolicyName=policy)
    client.maybe("iam", "DeleteRole", RoleName=role_name)
    return [f"deleted role {role_name}"]


def refresh_notifier(client: AwsClient, name: str, model_version: str) -> str:
    """Tell the notifier of ``name`` the model version now deployed (for its messages)."""
    function = notifier_name(name)
    current = client.wait_ready(function)
    env = dict((current.get("Environment") or {}).get("Variables") or {})
    if env.get(notifier.MODEL_VERSION_ENV) == model_version:
        return ""
    env[notifier.MODEL_VERSION_ENV] = model_version
    client.call(
        "lambda",
        "UpdateFunctionConfiguration",
        FunctionName=function,
        Environment={"Variables": env},
    )
    client.wait_ready(function)
    return f"notifier told of model version {model_version}"


def send_test(client: AwsClient, name: str) -> dict[str, Any]:
    """Invoke the notifier with the test event; what it answered.

    Raises
    ------
    MonitorError
        When there is no notifier, or it failed (its error message says why).
    """
    function = notifier_name(name)
    try:
        answer = client.call(
            "lambda",
            "Invoke",
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(notifier.TEST_EVENT).encode(),
        )
    except AwsError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
        raise MonitorError(
            f"{name} has no Telegram alerts; set them up with "
            f"`sklambda alerts telegram {name} --chat-id ID --token-from-stdin`"
        ) from None
    body = answer["Payload"].read()
    try:
        payload = json.loads(body or b"null")
    except ValueError:
        payload = {"raw": body.decode("utf-8", "replace")}
    if answer.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise MonitorError(f"the notifier {function} failed: {message}")
    return payload if isinstance(payload, dict) else {"answer": payload}
