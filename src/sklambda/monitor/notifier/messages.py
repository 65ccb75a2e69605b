"""The Telegram messages: what happened to which model, how often, where to look.

HTML (``parse_mode=HTML``), every value escaped, never over Telegram's 4,096 characters: the
sample line is shortened first, then optional lines are dropped, never a tag cut in half.
"""

from __future__ import annotations

import html
import json
import time
import urllib.parse

from .logevents import KINDS, LABELS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .logevents import Summary

MAX_TEXT = 4096
SAMPLE_CHARS = 600


def _e(value: Any, limit: int = 300) -> str:
    text = str(value)
    return html.escape(text if len(text) <= limit else text[:limit] + "…", quote=True)


def _console_part(text: str) -> str:
    # The CloudWatch console's fragment URLs encode twice and write "%" as "$".
    return urllib.parse.quote(urllib.parse.quote(text, safe=""), safe="").replace("%", "$")


def log_stream_link(region: str, log_group: str, log_stream: str) -> str:
    base = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    return (
        f"{base}#logsV2:log-groups/log-group/{_console_part(log_group)}"
        f"/log-events/{_console_part(log_stream)}"
    )


def alarm_link(region: str, alarm_name: str) -> str:
    base = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
    return f"{base}#alarmsV2:alarm/{urllib.parse.quote(alarm_name, safe='')}"


def _clock(ms: int | None) -> str:
    if ms is None:
        return "?"
    return time.strftime("%H:%M:%S", time.gmtime(ms / 1000))


def _counted(counts: dict[str, int]) -> str:
    parts = []
    for kind in KINDS:
        n = counts.get(kind, 0)
        if n:
            one, many = LABELS[kind]
            parts.append(f"<b>{n:,} {one if n == 1 else many}</b>")
    return ", ".join(parts)


def fit(lines: list[str], optional: set[int]) -> str:
    """Join ``lines``; drop optional ones (last first) until the text is within the limit."""
    keep = list(range(len(lines)))
    while True:
        text = "\n".join(lines[i] for i in keep)
        if len(text) <= MAX_TEXT:
            return text
        dropped = [i for i in reversed(keep) if i in optional]
        if not dropped:
            return text[: MAX_TEXT - 1] + "…"  # only plain text is left: no tag can be cut
        keep.remove(dropped[0])


def failures(
    summary: Summary,
    *,
    function: str,
    model: str,
    version: str,
    region: str,
    earlier: dict[str, int] | None = None,
) -> str:
    """The message for a batch of failures (with what earlier batches held back, if any)."""
    name = summary.model or model
    ver = summary.model_version or version
    window = f"{_clock(summary.first_ms)}–{_clock(summary.last_ms)} UTC"
    lines = [
        f"🔴 <b>{_e(function)}</b> · model <b>{_e(name)}</b>"
        + (f" version <code>{_e(ver)}</code>" if ver else ""),
        f"{_counted(summary.counts)} between {window}",
    ]
    optional: set[int] = set()
    if earlier and sum(earlier.values()):
        lines.append(f"(and earlier, not sent one by one: {_counted(earlier)})")
    if summary.sample_request:
        lines.append(f"sample request: <code>{_e(summary.sample_request)}</code>")
    if summary.sample_line:
        sample = summary.sample_line.replace("\r", "\n")
        if len(sample) > SAMPLE_CHARS:
            sample = sample[:SAMPLE_CHARS] + " …"
        optional.add(len(lines))
        lines.append(f"<pre>{_e(sample, SAMPLE_CHARS + 2)}</pre>")
    link = log_stream_link(region, summary.log_group, summary.log_stream)
    lines.append(f'<a href="{_e(link, 2000)}">log stream {_e(summary.log_stream)}</a>')
    return fit(lines, optional)


def alarm(
    notification: dict[str, Any], *, function: str, model: str, version: str, region: str
) -> str:
    """The message for a CloudWatch alarm's SNS notification (state change to ALARM or OK)."""
    state = str(notification.get("NewStateValue", "?"))
    icon = {"ALARM": "🔴", "OK": "✅"}.get(state, "⚠️")
    name = str(notification.get("AlarmName", "?"))[:255]
    # "Region" is a display name ("US East (N. Virginia)"); the ARN has the code.
    arn = str(notification.get("AlarmArn", ""))
    link_region = arn.split(":")[3] if arn.count(":") >= 5 else region
    lines = [
        f"{icon} <b>{_e(state)}</b> · <b>{_e(function)}</b> · model <b>{_e(model)}</b>"
        + (f" version <code>{_e(version)}</code>" if version else ""),
        f"alarm <b>{_e(name)}</b>",
    ]
    optional: set[int] = set()
    description = notification.get("AlarmDescription")
    if description:
        optional.add(len(lines))
        lines.append(_e(description, 500))
    reason = notification.get("NewStateReason")
    if reason:
        optional.add(len(lines))
        lines.append(f"<i>{_e(reason, 1000)}</i>")
    if notification.get("StateChangeTime"):
        lines.append(f"at {_e(notification['StateChangeTime'])}")
    lines.append(f'<a href="{_e(alarm_link(link_region, name), 2000)}">open the alarm</a>')
    return fit(lines, optional)


def sns_alarms(event: Any) -> list[dict[str, Any]] | None:
    """The alarm notifications in an SNS event, or None when the event is not one."""
    if not (isinstance(event, dict) and isinstance(event.get("Records"), list)):
        return None
    found = []
    for record in event["Records"]:
        sns = record.get("Sns") if isinstance(record, dict) else None
        if not isinstance(sns, dict):
            return None
        try:
            body = json.loads(sns.get("Message") or "{}")
        except ValueError:
            body = {
                "AlarmName": sns.get("Subject") or "SNS message",
                "NewStateReason": sns.get("Message"),
            }
        found.append(body if isinstance(body, dict) else {"NewStateReason": str(body)})
    return found


def test_message(*, function: str, model: str, version: str) -> str:
    return (
        f"✅ sklambda alerts for <b>{_e(function)}</b> (model <b>{_e(model)}</b>"
        + (f" version <code>{_e(version)}</code>" if version else "")
        + ") reach this chat. Errors, timeouts, init failures, out-of-memory kills and alarms "
        "will be posted here."
    )
