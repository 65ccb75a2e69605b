"""The notifier's entry point: ``sklambda_notifier.handler``.

Three kinds of event:

- a CloudWatch Logs subscription payload from the model function's log group → one message per
  batch, counts per kind; within ``SKLAMBDA_ALERT_WINDOW_S`` of the last message for that log
  group (one environment serves them all: the function runs with reserved concurrency 1), a batch
  is not sent but added to the next message ("and earlier: …"), so a burst is one message;
- an SNS notification from the alarm topic → one message per alarm state change;
- ``{"sklambda": "test"}`` → a test message (``sklambda alerts test NAME``).

When Telegram cannot take a message (down, 5xx, rate-limited past this invocation's time) the
invocation fails with the reason, and Lambda retries the event (asynchronous invocations: twice).
The bot token is read once per environment from SSM Parameter Store or Secrets Manager, by the
name in the environment, and is never logged.
"""

from __future__ import annotations

import os
import sys
import time

from . import logevents, messages, telegram
from .awsapi import AwsApiError, get_parameter, get_secret

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

# The notifier's environment (set by `sklambda alerts telegram`).
API_URL_ENV = "TELEGRAM_API_URL"
CHAT_ID_ENV = "TELEGRAM_CHAT_ID"
TOKEN_PARAMETER_ENV = "TELEGRAM_TOKEN_PARAMETER"
TOKEN_SECRET_ENV = "TELEGRAM_TOKEN_SECRET"
FUNCTION_ENV = "SKLAMBDA_FUNCTION"
MODEL_ENV = "SKLAMBDA_MODEL"
MODEL_VERSION_ENV = "SKLAMBDA_MODEL_VERSION"
WINDOW_ENV = "SKLAMBDA_ALERT_WINDOW_S"
DEFAULT_WINDOW_S = 60.0
TEST_EVENT = {"sklambda": "test"}


class NotifierError(Exception):
    """The notifier is misconfigured or its token cannot be read (the message says which)."""


class Notifier:
    """The state one execution environment keeps between invocations (token, rate window)."""

    def __init__(
        self,
        environ: Mapping[str, str],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.environ = environ
        self.clock = clock
        self.sleep = sleep
        self._token: str | None = None
        self._last_sent: dict[str, float] = {}
        self._held: dict[str, dict[str, int]] = {}  # log group → counts not sent yet

    def _setting(self, name: str) -> str:
        value = self.environ.get(name, "").strip()
        if not value:
            raise NotifierError(f"{name} is not set in the notifier's environment")
        return value

    def _names(self) -> dict[str, str]:
        function = self.environ.get(FUNCTION_ENV, "") or "?"
        return {
            "function": function,
            "model": self.environ.get(MODEL_ENV, "") or function,
            "version": self.environ.get(MODEL_VERSION_ENV, ""),
        }

    def token(self) -> str:
        if self._token is None:
            parameter = self.environ.get(TOKEN_PARAMETER_ENV, "").strip()
            secret = self.environ.get(TOKEN_SECRET_ENV, "").strip()
            try:
                if parameter:
                    self._token = get_parameter(parameter, self.environ).strip()
                elif secret:
                    self._token = get_secret(secret, self.environ).strip()
                else:
                    raise NotifierError(
                        f"neither {TOKEN_PARAMETER_ENV} nor {TOKEN_SECRET_ENV} is set: the "
                        "notifier does not know where the bot token is stored"
                    )
            except AwsApiError as error:
                where = parameter or secret
                raise NotifierError(f"cannot read the bot token from {where}: {error}") from None
        return self._token

    def send(self, text: str, seconds_left: Callable[[], float]) -> None:
        api = self.environ.get(API_URL_ENV, "").strip() or telegram.DEFAULT_API_URL
        chat = self._setting(CHAT_ID_ENV)
        try:
            telegram.send(
                api, self.token(), chat, text, seconds_left=seconds_left, sleep=self.sleep
            )
        except telegram.TelegramUnauthorized:
            self._token = None  # rotated? read it again next time
            raise

    # -- the three kinds of event -------------------------------------------------------------

    def handle(self, event: Any, seconds_left: Callable[[], float]) -> dict[str, Any]:
        if event == TEST_EVENT:
            self.send(messages.test_message(**self._names()), seconds_left)
            return {"sent": 1, "kind": "test"}
        payload = logevents.decode(event)
        if payload is not None:
            return self._logs(payload, seconds_left)
        alarms = messages.sns_alarms(event)
        if alarms is not None:
            for notification in alarms:
                text = messages.alarm(notification, region=self._region(), **self._names())
                self.send(text, seconds_left)
            return {"sent": len(alarms), "kind": "alarm"}
        raise NotifierError(
            'unknown event: expected a CloudWatch Logs subscription payload ({"awslogs": …}), '
            'an SNS notification ({"Records": [{"Sns": …}]}) or {"sklambda": "test"}'
        )

    def _region(self) -> str:
        return self.environ.get("AWS_REGION", "") or "us-east-1"

    def _window(self) -> float:
        try:
            return max(0.0, float(self.environ.get(WINDOW_ENV, DEFAULT_WINDOW_S)))
        except ValueError:
            return DEFAULT_WINDOW_S

    def _logs(self, payload: dict[str, Any], seconds_left: Callable[[], float]) -> dict[str, Any]:
        summary = logevents.summarize(payload)
        if summary is None:
            return {"sent": 0, "kind": "logs", "failures": 0}
        group = summary.log_group
        held = self._held.setdefault(group, {})
        now = self.clock()
        if now - self._last_sent.get(group, -1e18) < self._window():
            for kind, count in summary.counts.items():
                held[kind] = held.get(kind, 0) + count
            return {"sent": 0, "kind": "logs", "failures": summary.total, "held": True}
        text = messages.failures(summary, region=self._region(), earlier=held, **self._names())
        self.send(text, seconds_left)  # raises: nothing is marked sent, Lambda retries the batch
        self._last_sent[group] = now
        self._held[group] = {}
        return {"sent": 1, "kind": "logs", "failures": summary.total}


_notifier: Notifier | None = None


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Answer a subscription payload, an SNS alarm notification or the test event."""
    global _notifier
    if _notifier is None:
        _notifier = Notifier(os.environ)

    def seconds_left() -> float:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return remaining() / 1000.0 if remaining else 30.0

    try:
        return _notifier.handle(event, seconds_left)
    except (NotifierError, telegram.TelegramError) as error:
        # The reason, on one line, in the notifier's own log; the invocation fails so that
        # Lambda retries it. No token is in any of these messages.
        print(f"[ERROR] sklambda notifier: {error}", file=sys.stderr, flush=True)
        raise
