"""Alarms, topic, log group, filters, Telegram alerts: through boto3 against moto on 127.0.0.1.

Created by deploy / ``alerts telegram``, converged on re-run, removed by destroy, and nothing
else touched — read back through the same APIs a user would call.

What moto cannot show, and so these tests do not claim:
- filter patterns are not evaluated (no TestMetricFilter, no subscription delivery: moto would
  need Docker to invoke the notifier), so the REPORT pattern and the alerts pattern are checked
  in ``test_patterns`` against lines shaped as Lambda writes them, not by CloudWatch;
- alarms are stored, never evaluated (metric math, thresholds, state changes, SNS delivery);
- IAM policies are stored, not enforced; SigV4 signatures are not verified (the notifier's
  signer is compared with botocore's in ``test_notifier.py`` instead);
- PutFunctionConcurrency always succeeds (a small account refuses reserved concurrency).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest

from sklambda.aws import AwsClient, DeployOptions, NotManagedError, deploy, destroy
from sklambda.monitor import alarms, alerts
from sklambda.monitor.alerts import TokenSource, notifier_name, setup_telegram
from sklambda.monitor.errors import MonitorError
from sklambda.monitor.loggroups import MEMORY_FILTER, SUBSCRIPTION_FILTER
from sklambda.monitor.notifier import handler as notifier
from sklambda.monitor.options import ALARM_KINDS, MonitorOptions
from tests.support.aws import REGION, make_dist

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # shaped like @BotFather's


@pytest.fixture
def client(endpoint: str) -> AwsClient:
    return AwsClient(region=REGION, endpoint_url=endpoint, sleep=lambda _s: None)


@pytest.fixture
def aws(endpoint: str) -> dict[str, Any]:
    services = ("lambda", "iam", "logs", "cloudwatch", "sns", "ssm")
    return {s: boto3.client(s, region_name=REGION, endpoint_url=endpoint) for s in services}


@pytest.fixture(scope="module")
def notifier_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklambda.monitor.packaging import build_notifier

    return build_notifier(tmp_path_factory.mktemp("notifier") / "dist").dist


def _alarms(aws: dict[str, Any], name: str) -> dict[str, dict[str, Any]]:
    found = aws["cloudwatch"].describe_alarms(AlarmNamePrefix=f"sklambda-{name}.")
    return {a["AlarmName"]: a for a in found["MetricAlarms"]}


def _group(aws: dict[str, Any], name: str) -> dict[str, Any]:
    groups = aws["logs"].describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")
    return next(g for g in groups["logGroups"] if g["logGroupName"] == f"/aws/lambda/{name}")


def _everything(aws: dict[str, Any]) -> dict[str, Any]:
    """A snapshot of every resource kind these tests touch (to prove what else stayed)."""
    return {
        "alarms": sorted(
            a["AlarmName"] for a in aws["cloudwatch"].describe_alarms()["MetricAlarms"]
        ),
        "topics": sorted(t["TopicArn"] for t in aws["sns"].list_topics()["Topics"]),
        "parameters": sorted(p["Name"] for p in aws["ssm"].describe_parameters()["Parameters"]),
        "functions": sorted(f["FunctionName"] for f in aws["lambda"].list_functions()["Functions"]),
        "groups": sorted(g["logGroupName"] for g in aws["logs"].describe_log_groups()["logGroups"]),
    }


def test_deploy_sets_retention_and_alarms_converges_and_destroy_removes_them(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    # Things of the user's that must survive: an alarm, a topic, a parameter, another group.
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="mine", Namespace="X", MetricName="Y", Statistic="Sum", Period=60,
        EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    aws["sns"].create_topic(Name="my-topic")
    aws["ssm"].put_parameter(Name="/mine/token", Value="x" * 30, Type="SecureString")
    aws["logs"].create_log_group(logGroupName="/aws/lambda/other")
    before = _everything(aws)

    dist = make_dist(tmp_path / "dist")
    options = DeployOptions(memory=512, timeout=10, monitoring=MonitorOptions(alarms=ALARM_KINDS))
    first = deploy(client, dist, "watched", options)
    assert any(
        a == "created log group /aws/lambda/watched; log retention 30 days" for a in first.actions
    )
    assert _group(aws, "watched")["retentionInDays"] == 30
    found = _alarms(aws, "watched")
    assert sorted(found) == sorted(alarms.alarm_name("watched", k) for k in ALARM_KINDS)
    topic = f"arn:aws:sns:{REGION}:123456789012:sklambda-watched-alarms"
    for alarm in found.values():
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
        tags = aws["cloudwatch"].list_tags_for_resource(ResourceARN=alarm["AlarmArn"])["Tags"]
        assert {"Key": "sklambda:managed", "Value": "true"} in tags
    assert found["sklambda-watched.memory"]["Threshold"] == pytest.approx(0.9 * 512)
    assert found["sklambda-watched.timeout"]["Threshold"] == pytest.approx(0.8 * 10_000)
    assert found["sklambda-watched.latency"]["ExtendedStatistic"] == "p99"
    errors = {m["Id"]: m for m in found["sklambda-watched.errors"]["Metrics"]}
    assert errors["e5"]["MetricStat"]["Metric"]["Namespace"] == "sklambda"
    assert errors["e5"]["MetricStat"]["Metric"]["MetricName"] == "Errors5xx"
    topic_tags = aws["sns"].list_tags_for_resource(ResourceArn=topic)["Tags"]
    assert {"Key": "sklambda:function", "Value": "watched"} in topic_tags
    filters = aws["logs"].describe_metric_filters(logGroupName="/aws/lambda/watched")
    assert [f["filterName"] for f in filters["metricFilters"]] == [MEMORY_FILTER]
    transformation = filters["metricFilters"][0]["metricTransformations"][0]
    assert transformation["metricName"] == "MaxMemoryUsedMB.watched"
    assert transformation["metricValue"] == "$max_memory_used"

    # Converged: the same deploy again changes nothing and adds no copies.
    again = deploy(client, dist, "watched", options)
    assert not any(w in a for a in again.actions for w in ("created", "updated", "deleted"))
    assert len(_alarms(aws, "watched")) == len(ALARM_KINDS)
    filters = aws["logs"].describe_metric_filters(logGroupName="/aws/lambda/watched")
    assert len(filters["metricFilters"]) == 1

    # A redeploy without --alarms keeps them, their thresholds following memory and timeout.
    bigger = deploy(client, dist, "watched", DeployOptions(memory=2048, timeout=10))
    assert "updated alarms memory" in "; ".join(bigger.actions)
    assert _alarms(aws, "watched")["sklambda-watched.memory"]["Threshold"] == pytest.approx(1843.2)
    assert len(_alarms(aws, "watched")) == len(ALARM_KINDS)

    # Fewer alarms asked for: the others go.
    fewer = DeployOptions(memory=2048, timeout=10, monitoring=MonitorOptions(alarms=("errors",)))
    deploy(client, dist, "watched", fewer)
    assert list(_alarms(aws, "watched")) == ["sklambda-watched.errors"]
    assert (
        aws["logs"].describe_metric_filters(logGroupName="/aws/lambda/watched")["metricFilters"]
        == []
    )

    result = destroy(client, "watched")
    assert "deleted alarms errors" in result.actions
    assert "deleted SNS topic sklambda-watched-alarms" in result.actions
    assert _alarms(aws, "watched") == {}
    assert topic not in [t["TopicArn"] for t in aws["sns"].list_topics()["Topics"]]
    # The logs stay, and keep expiring; everything of the user's is as it was.
    assert _group(aws, "watched")["retentionInDays"] == 30
    after = _everything(aws)
    after["groups"].remove("/aws/lambda/watched")
    assert after == before
    assert destroy(client, "watched").actions == ()


def test_an_alarm_sklambda_did_not_make_is_not_taken_over(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    aws["cloudwatch"].put_metric_alarm(
        AlarmName="sklambda-squatted.errors", Namespace="X", MetricName="Y", Statistic="Sum",
        Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
    )  # fmt: skip
    options = DeployOptions(monitoring=MonitorOptions(alarms=("errors",)))
    with pytest.raises(NotManagedError, match="not made by sklambda"):
        deploy(client, make_dist(tmp_path / "dist"), "squatted", options)
    assert _alarms(aws, "squatted")["sklambda-squatted.errors"]["Namespace"] == "X"


def test_every_alarm_kind_has_a_definition() -> None:
    assert tuple(alarms.DEFINITIONS) == ALARM_KINDS


def test_retention_values_are_checked_before_anything_happens() -> None:
    with pytest.raises(MonitorError, match="one of CloudWatch's values"):
        MonitorOptions(log_retention_days=31)
    with pytest.raises(MonitorError, match='unknown alarm "latencyy"'):
        MonitorOptions(alarms=("latencyy",))


def test_telegram_alerts_are_set_up_converge_and_are_removed(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path, notifier_dist: Path
) -> None:
    deploy(client, make_dist(tmp_path / "dist"), "alerted", DeployOptions())
    aws["ssm"].put_parameter(Name="/mine/other", Value="keep me", Type="String")
    before = _everything(aws)
    token = TokenSource(parameter=alerts.token_parameter_name("alerted"), value=TOKEN)
    first = setup_telegram(client, "alerted", chat_id="-100123", token=token, dist=notifier_dist)
    function = notifier_name("alerted")
    assert first.notifier == function == "sklambda-alerts-alerted"

    stored = aws["ssm"].get_parameter(Name="/sklambda/alerted/telegram-token", WithDecryption=True)
    assert stored["Parameter"]["Type"] == "SecureString" and stored["Parameter"]["Value"] == TOKEN
    config = aws["lambda"].get_function(FunctionName=function)
    env = config["Configuration"]["Environment"]["Variables"]
    assert env[notifier.TOKEN_PARAMETER_ENV] == "/sklambda/alerted/telegram-token"
    assert env[notifier.CHAT_ID_ENV] == "-100123" and env[notifier.FUNCTION_ENV] == "alerted"
    assert config["Configuration"]["Handler"] == "sklambda_notifier.handler"
    assert config["Tags"]["sklambda:alerts-for"] == "alerted"
    # The token is nowhere but in the parameter: not in the configuration, tags or code.
    assert TOKEN not in json.dumps(config, default=str)
    with zipfile.ZipFile(notifier_dist / "function.zip") as archive:
        assert all(TOKEN.encode() not in archive.read(n) for n in archive.namelist())
    subscription = aws["logs"].describe_subscription_filters(logGroupName="/aws/lambda/alerted")
    [flt] = subscription["subscriptionFilters"]
    assert flt["filterName"] == SUBSCRIPTION_FILTER
    assert flt["destinationArn"] == first.notifier_arn
    assert '"Task timed out"' in flt["filterPattern"]
    topic = f"arn:aws:sns:{REGION}:123456789012:sklambda-alerted-alarms"
    subs = aws["sns"].list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("lambda", first.notifier_arn)]
    policy = json.loads(aws["lambda"].get_policy(FunctionName=function)["Policy"])
    principals = sorted(json.dumps(s["Principal"]) for s in policy["Statement"])
    assert any("logs.amazonaws.com" in p for p in principals)
    assert any("sns.amazonaws.com" in p for p in principals)
    role = aws["iam"].get_role(RoleName=function)["Role"]
    inline = aws["iam"].get_role_policy(RoleName=role["RoleName"], PolicyName="sklambda-notifier")
    document = json.dumps(inline["PolicyDocument"])
    assert (
        "ssm:GetParameter" in document and "parameter/sklambda/alerted/telegram-token" in document
    )
    assert aws["lambda"].get_function_concurrency(FunctionName=function)[
        "ReservedConcurrentExecutions"
    ] == 1  # fmt: skip

    again = setup_telegram(client, "alerted", chat_id="-100123", token=token, dist=notifier_dist)
    assert again.actions == ()  # converged
    assert len(aws["sns"].list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1

    moved = setup_telegram(client, "alerted", chat_id="42", token=token, dist=notifier_dist)
    assert moved.actions == ("updated the notifier's configuration",)

    # A new model version deployed: the notifier's messages name it.
    newer = deploy(client, make_dist(tmp_path / "v2", code="v2"), "alerted", DeployOptions())
    assert "notifier told of model version ver-v2" in newer.actions
    env = aws["lambda"].get_function(FunctionName=function)["Configuration"]["Environment"]
    assert env["Variables"][notifier.MODEL_VERSION_ENV] == "ver-v2"

    result = destroy(client, "alerted")
    for done in (
        "deleted subscription filter sklambda-alerts",
        "unsubscribed the notifier from sklambda-alerted-alarms",
        f"deleted notifier {function}",
        f"deleted role {function}",
        "deleted SSM parameter /sklambda/alerted/telegram-token",
        "deleted SNS topic sklambda-alerted-alarms",
    ):
        assert done in result.actions
    after = _everything(aws)
    after["groups"].remove(f"/aws/lambda/{function}")  # the notifier's logs stay, and expire
    assert after == {**before, "functions": [f for f in before["functions"] if f != "alerted"]}
    assert aws["logs"].describe_subscription_filters(logGroupName="/aws/lambda/alerted")[
        "subscriptionFilters"
    ] == []  # fmt: skip


def test_an_existing_parameter_is_used_as_is_and_never_deleted(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path, notifier_dist: Path
) -> None:
    deploy(client, make_dist(tmp_path / "dist"), "byo", DeployOptions())
    aws["ssm"].put_parameter(Name="/team/bot", Value=TOKEN, Type="SecureString")
    aws["ssm"].put_parameter(Name="/team/plain", Value=TOKEN, Type="String")
    with pytest.raises(MonitorError, match="must be a SecureString"):
        setup_telegram(client, "byo", chat_id="1", token=TokenSource(parameter="/team/plain"))
    with pytest.raises(MonitorError, match="no SSM parameter /team/none"):
        setup_telegram(client, "byo", chat_id="1", token=TokenSource(parameter="/team/none"))
    setup_telegram(
        client, "byo", chat_id="1", token=TokenSource(parameter="/team/bot"), dist=notifier_dist
    )
    alerts.remove_alerts(client, "byo")
    assert (
        aws["ssm"].get_parameter(Name="/team/bot", WithDecryption=True)["Parameter"]["Value"]
        == TOKEN
    )
    assert aws["lambda"].list_functions()["Functions"] and all(
        f["FunctionName"] != notifier_name("byo")
        for f in aws["lambda"].list_functions()["Functions"]
    )
    destroy(client, "byo")


def test_bad_chat_ids_and_tokens_are_refused_before_anything_happens(
    client: AwsClient, aws: dict[str, Any], tmp_path: Path
) -> None:
    deploy(client, make_dist(tmp_path / "dist"), "careful-alerts", DeployOptions())
    with pytest.raises(MonitorError, match="not a Telegram bot token") as refused:
        TokenSource(parameter="/x", value="not-a-token-at-all")
    assert "not-a-token-at-all" not in str(refused.value)
    with pytest.raises(MonitorError, match="is not a Telegram chat id"):
        setup_telegram(
            client, "careful-alerts", chat_id="my chat", token=TokenSource(parameter="/x")
        )
    names = [p["Name"] for p in aws["ssm"].describe_parameters()["Parameters"]]
    assert "/sklambda/careful-alerts/telegram-token" not in names
    destroy(client, "careful-alerts")


def test_exports_carry_the_log_group_topic_filter_and_alarms(tmp_path: Path) -> None:
    import yaml
    from cfnlint.api import lint_file

    from sklambda.aws import export

    dist = make_dist(tmp_path / "dist")
    monitoring = MonitorOptions(alarms=ALARM_KINDS, log_retention_days=14)
    options = DeployOptions(memory=512, timeout=10, monitoring=monitoring)
    sam = export("sam", dist, "houses", tmp_path / "sam", options)
    problems = [f"{m.rule.id} {m.message} (line {m.linenumber})" for m in lint_file(sam)]
    assert problems == []
    resources = yaml.safe_load(sam.read_text())["Resources"]
    group = resources["ModelLogGroup"]["Properties"]
    assert group == {"LogGroupName": "/aws/lambda/houses", "RetentionInDays": 14}
    assert resources["ModelAlarmTopic"]["Properties"]["TopicName"] == "sklambda-houses-alarms"
    alarm_ids = sorted(k for k, v in resources.items() if v["Type"] == "AWS::CloudWatch::Alarm")
    assert len(alarm_ids) == len(ALARM_KINDS)
    memory = resources["AlarmMemory"]["Properties"]
    # The same definition deploy converges, the topic by reference.
    assert memory == {
        **alarms.alarm_request("memory", "houses", monitoring, memory=512, timeout=10,
                               topic_arn={"Ref": "ModelAlarmTopic"}),
    }  # fmt: skip
    assert resources["ModelMemoryFilter"]["DependsOn"] == "ModelLogGroup"

    serverless = yaml.safe_load(
        export("serverless", dist, "houses", tmp_path / "sls", options).read_text()
    )
    assert serverless["provider"]["logRetentionInDays"] == 14
    extra = serverless["resources"]["Resources"]
    assert "ModelLogGroup" not in extra  # the Framework declares its own
    assert extra["ModelMemoryFilter"]["DependsOn"] == "PredictLogGroup"
    assert {k for k in extra if k.startswith("Alarm")} == set(alarm_ids)
    assert "Token" not in sam.read_text() and "telegram" not in sam.read_text().lower()


def test_a_secrets_manager_secret_can_hold_the_token(
    client: AwsClient, aws: dict[str, Any], endpoint: str, tmp_path: Path, notifier_dist: Path
) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION, endpoint_url=endpoint)
    arn = secrets.create_secret(Name="team/bot", SecretString=TOKEN)["ARN"]
    deploy(client, make_dist(tmp_path / "dist"), "secretive", DeployOptions())
    with pytest.raises(MonitorError, match="no Secrets Manager secret team/none"):
        setup_telegram(client, "secretive", chat_id="1", token=TokenSource(secret="team/none"))
    result = setup_telegram(
        client, "secretive", chat_id="1", token=TokenSource(secret="team/bot"), dist=notifier_dist
    )
    env = aws["lambda"].get_function(FunctionName=result.notifier)["Configuration"]["Environment"]
    assert env["Variables"][notifier.TOKEN_SECRET_ENV] == "team/bot"
    assert notifier.TOKEN_PARAMETER_ENV not in env["Variables"]
    policy = aws["iam"].get_role_policy(RoleName=result.notifier, PolicyName="sklambda-notifier")
    statements = policy["PolicyDocument"]["Statement"]
    assert {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": arn} in (
        statements
    )
    destroy(client, "secretive")
    assert secrets.get_secret_value(SecretId="team/bot")["SecretString"] == TOKEN  # never deleted
