"""Keep-warm pings: EventBridge rules that invoke alias ``live`` every few minutes.

How ``--keep-warm-concurrency N`` keeps N environments warm: the schedule has N targets (five
per rule, EventBridge's limit, so N > 5 uses several rules on the same schedule), all fired at the
same moment. Each target's constant input is ``{"warmup": true, "concurrency": N, "ping": i,
"hold_ms": 150}``: the handler answers it without predicting, and holds the environment for
``hold_ms`` when ``concurrency`` > 1 so the N pings overlap and cannot all be served by one
environment (a ping that finished in 1 ms would free it for the next). Lambda does not promise
which environment an invoke lands on; N overlapping invokes need N environments, which is what
keeps them alive. Cost: N invokes of ~150 ms per period.

Everything is named ``sklambda-<function>-warm-<k>`` (shortened with a digest past EventBridge's
64 characters), described ``sklambda keep-warm of <function>``, and allowed to invoke the
function by a statement ``sklambda-keep-warm-<k>`` on ``live``; ``--keep-warm off`` and
``destroy`` remove exactly those.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from sklambda.aws.errors import AwsError, DeployError

if TYPE_CHECKING:
    from sklambda.aws.client import AwsClient
    from sklambda.aws.deployer import Step

LIVE = "live"
TARGETS_PER_RULE = 5  # EventBridge's limit of targets per rule
MAX_CONCURRENCY = 50
HOLD_MS = 150
RULE_MARK = "sklambda keep-warm of"
SID_PREFIX = "sklambda-keep-warm-"
_RATE = re.compile(r"^(\d+)\s*(m|min|mins|minutes?|h|hours?)$")


def parse_keep_warm(text: str) -> int:
    """``5m``, ``15min``, ``1h`` → minutes; ``off`` → 0.

    Raises
    ------
    DeployError
        For anything else, with the forms that work.
    """
    value = text.strip().lower()
    if value in ("off", "0", "none", "no"):
        return 0
    match = _RATE.match(value)
    if not match:
        raise DeployError(f'--keep-warm takes a period like 5m, 10m or 1h (or "off"), got "{text}"')
    minutes = int(match.group(1)) * (60 if match.group(2).startswith("h") else 1)
    if not 1 <= minutes <= 60 * 24:
        raise DeployError(f"--keep-warm must be between 1m and 24h, got {text}")
    return minutes


def check_concurrency(count: int) -> int:
    if not 1 <= count <= MAX_CONCURRENCY:
        raise DeployError(
            f"--keep-warm-concurrency must be 1-{MAX_CONCURRENCY} (N parallel pings keep N "
            f"environments warm), got {count}"
        )
    return count


def rule_name(name: str, index: int) -> str:
    full = f"sklambda-{name}-warm-{index}"
    if len(full) <= 64:
        return full
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"sklambda-{name[:36]}-{digest}-warm-{index}"


def schedule_expression(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"rate({hours} hour{'s' if hours > 1 else ''})"
    return f"rate({minutes} minute{'s' if minutes > 1 else ''})"


def ping(index: int, concurrency: int) -> dict[str, Any]:
    """The constant input of target ``index`` (what the handler sees)."""
    return {"warmup": True, "concurrency": concurrency, "ping": index, "hold_ms": HOLD_MS}


def existing_rules(client: AwsClient, name: str) -> dict[int, dict[str, Any]]:
    """sklambda's keep-warm rules of ``name`` by index (only those it described as its own)."""
    prefix = rule_name(name, 0)[: -len("0")]
    found: dict[int, dict[str, Any]] = {}
    params: dict[str, Any] = {"NamePrefix": prefix}
    while True:
        page = client.call("events", "ListRules", **params)
        for rule in page.get("Rules", []):
            tail = rule["Name"][len(prefix) :]
            description = rule.get("Description", "")
            if tail.isdigit() and description == f"{RULE_MARK} {name}":
                found[int(tail)] = rule
        token = page.get("NextToken")
        if not token:
            return found
        params["NextToken"] = token


def _targets(client: AwsClient, rule: str) -> list[dict[str, Any]]:
    return list(client.call("events", "ListTargetsByRule", Rule=rule).get("Targets", []))


def _remove_rule(client: AwsClient, name: str, index: int) -> None:
    rule = rule_name(name, index)
    ids = [t["Id"] for t in _targets(client, rule)]
    if ids:
        client.call("events", "RemoveTargets", Rule=rule, Ids=ids)
    client.maybe("events", "DeleteRule", Name=rule)
    try:
        client.call(
            "lambda",
            "RemovePermission",
            FunctionName=name,
            StatementId=f"{SID_PREFIX}{index}",
            Qualifier=LIVE,
        )
    except AwsError as exc:
        if exc.code != "ResourceNotFoundException":
            raise


def remove_keep_warm(client: AwsClient, name: str) -> list[str]:
    """Remove every keep-warm rule, target and permission of ``name``; what was removed."""
    rules = existing_rules(client, name)
    for index in sorted(rules):
        _remove_rule(client, name, index)
    return [f"removed keep-warm schedule ({len(rules)} rules)"] if rules else []


def converge_keep_warm(
    client: AwsClient, name: str, function_arn: str, minutes: int, concurrency: int
) -> str:
    """Make the schedule exactly ``concurrency`` pings every ``minutes`` (0: none)."""
    if minutes == 0:
        return "; ".join(remove_keep_warm(client, name))
    target_arn = f"{function_arn.split(':function:')[0]}:function:{name}:{LIVE}"
    wanted_rules = -(-concurrency // TARGETS_PER_RULE)
    present = existing_rules(client, name)
    expression = schedule_expression(minutes)
    changed = False
    for index in range(1, wanted_rules + 1):
        rule = rule_name(name, index)
        current = present.get(index)
        if current is None or current.get("ScheduleExpression") != expression:
            made = client.call(
                "events",
                "PutRule",
                Name=rule,
                ScheduleExpression=expression,
                State="ENABLED",
                Description=f"{RULE_MARK} {name}",
                Tags=[
                    {"Key": "sklambda:managed", "Value": "true"},
                    {"Key": "sklambda:function", "Value": name},
                ],
            )
            rule_arn = made["RuleArn"]
            changed = True
        else:
            rule_arn = current["Arn"]
        first = (index - 1) * TARGETS_PER_RULE
        pings = range(first, min(first + TARGETS_PER_RULE, concurrency))
        wanted = {
            f"ping-{i}": json.dumps(ping(i, concurrency), separators=(",", ":")) for i in pings
        }
        have = {t["Id"]: t for t in _targets(client, rule)}
        stale = [tid for tid, t in have.items() if wanted.get(tid) != t.get("Input")]
        stale += [tid for tid, t in have.items() if t.get("Arn") != target_arn and tid in wanted]
        stale = sorted(set(stale) | (set(have) - set(wanted)))
        if stale:
            client.call("events", "RemoveTargets", Rule=rule, Ids=stale)
            changed = True
        missing = [tid for tid in wanted if tid not in have or tid in stale]
        if missing:
            client.call(
                "events",
                "PutTargets",
                Rule=rule,
                Targets=[{"Id": tid, "Arn": target_arn, "Input": wanted[tid]} for tid in missing],
            )
            changed = True
        changed |= _ensure_permission(client, name, index, rule_arn)
    for index in sorted(set(present) - set(range(1, wanted_rules + 1))):
        _remove_rule(client, name, index)
        changed = True
    if not changed:
        return ""
    return f"keep-warm: {concurrency} ping{'s' if concurrency > 1 else ''} {expression}"


def _ensure_permission(client: AwsClient, name: str, index: int, rule_arn: str) -> bool:
    sid = f"{SID_PREFIX}{index}"
    for statement in client.policy_statements(name, LIVE):
        if statement.get("Sid") != sid:
            continue
        source = json.dumps(statement)
        if rule_arn in source and "events.amazonaws.com" in source:
            return False
        client.call(
            "lambda", "RemovePermission", FunctionName=name, StatementId=sid, Qualifier=LIVE
        )
    client.call(
        "lambda",
        "AddPermission",
        FunctionName=name,
        Qualifier=LIVE,
        StatementId=sid,
        Action="lambda:InvokeFunction",
        Principal="events.amazonaws.com",
        SourceArn=rule_arn,
    )
    return True


def keep_warm_steps(
    client: AwsClient, name: str, minutes: int | None, concurrency: int, values: dict[str, Any]
) -> list[Step]:
    """The deploy step for ``--keep-warm`` (None: leave the schedule as it is)."""
    from sklambda.aws.deployer import Step

    if minutes is None:
        return []

    def preview() -> str:
        present = existing_rules(client, name) if values.get("function_exists") else {}
        if minutes == 0:
            return (
                f"remove keep-warm schedule ({len(present)} rules)"
                if present
                else ("leave keep-warm off")
            )
        verb = "update" if present else "create"
        return f"{verb} keep-warm: {concurrency} pings {schedule_expression(minutes)}"

    return [
        Step(
            "keep-warm schedule",
            lambda: converge_keep_warm(client, name, values["function_arn"], minutes, concurrency),
            preview,
        )
    ]
