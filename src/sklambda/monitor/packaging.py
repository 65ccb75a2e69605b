"""``sklambda alerts package``: the notifier's own Lambda package, proven before it is written.

The package has the format of a model package (:mod:`sklambda.dist`): ``function.zip`` with the
notifier's standard-library modules (and their bytecode for the target Python), ``build.json``
with handler, python and arch — so ``sklambda serve`` and ``sklambda deploy``'s reader take it.

The proof: the staged package is cold-started in the local emulator with only its own files,
against a Telegram stand-in and an SSM stand-in on loopback, and must (1) ignore the control
message a new subscription sends, (2) post one message for a batch of failures, counting each
request once, (3) post an alarm notification, (4) post the test message, (5) read the token
once, and (6) never print it. Only then is the directory written.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sklambda._version import __version__
from sklambda.building.targets import target
from sklambda.building.zips import write_zip
from sklambda.dist import BUILD_JSON, FORMAT_VERSION, FUNCTION_ZIP
from sklambda.errors import BuildError
from sklambda.files import check_replaceable, replace_dir, staging_dir
from sklambda.monitor.notifier import handler as notifier

NOTIFIER_NAME = "sklambda-notifier"
HANDLER = "sklambda_notifier.handler"
DEFAULT_PYTHON = "3.12"
DEFAULT_ARCH = "arm64"  # pure Python: the cheaper architecture, nothing to compile for it
HANDLER_SOURCE = '''"""The notifier's entry point (written by `sklambda alerts package`)."""

from sklambda.monitor.notifier.handler import handler

__all__ = ["handler"]
'''
PROOF_PARAMETER = "/sklambda/proof/telegram-token"


@dataclass(frozen=True)
class NotifierPackage:
    """The package directory and its build.json report."""

    dist: Path
    report: dict[str, Any]


def _task_root(root: Path) -> None:
    source = Path(notifier.__file__).parent
    package = root / "sklambda" / "monitor" / "notifier"
    package.mkdir(parents=True)
    stub = '"""sklambda notifier (Lambda side only)."""\n'
    (root / "sklambda" / "__init__.py").write_text(stub)
    (root / "sklambda" / "monitor" / "__init__.py").write_text(stub)
    for module in sorted(source.glob("*.py")):
        shutil.copy2(module, package / module.name)
    (root / "sklambda_notifier.py").write_text(HANDLER_SOURCE)


def build_notifier(
    out: str | Path,
    *,
    python: str = DEFAULT_PYTHON,
    arch: str = DEFAULT_ARCH,
    on_progress: Callable[[str], None] | None = None,
) -> NotifierPackage:
    """Build, prove and write the notifier package to ``out``.

    Parameters
    ----------
    out:
        The package directory (replaced only after the new package proved itself).
    python, arch:
        The Lambda runtime to target (the code is pure Python: any architecture).
    on_progress:
        Called with each phase as it starts.

    Raises
    ------
    BuildError
        When the package fails its proof; nothing is written.
    """
    from sklambda.building.bytecode import compile_tree
    from sklambda.local.interpreters import find_interpreter

    say = on_progress or (lambda _message: None)
    tgt = target(python, arch)
    out = Path(out)
    check_replaceable(out, BUILD_JSON, "sklambda package")
    interpreter = find_interpreter(tgt.python)
    staging = staging_dir(out)
    try:
        say("writing the notifier's files…")
        task, dist = staging / "task", staging / "dist"
        dist.mkdir()
        _task_root(task)
        pyc = compile_tree(task, interpreter.path, "/var/task") if interpreter else 0
        artifact = write_zip(task, dist / FUNCTION_ZIP)
        report: dict[str, Any] = {
            "format_version": FORMAT_VERSION,
            "sklambda": __version__,
            "kind": "notifier",
            "name": NOTIFIER_NAME,
            "runtime": "notifier",
            "python": tgt.python,
            "arch": tgt.arch,
            "target": tgt.to_dict(),
            "handler": HANDLER,
            "artifacts": {"function": artifact.to_dict()},
            "bytecode": {"shipped": bool(pyc), "files": pyc, "invalidation": "unchecked-hash"},
            "created_at": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
        (dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")
        say("proving the notifier in the local emulator…")
        python_path = interpreter.path if interpreter else Path(sys.executable)
        verification = prove(dist, python_path)
        if not verification["ok"]:
            raise BuildError(
                f"the notifier package failed its proof ({verification['detail']}); nothing "
                "was written"
            )
        report["verification"] = verification
        (dist / BUILD_JSON).write_text(json.dumps(report, indent=2) + "\n")
        replace_dir(dist, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return NotifierPackage(out, report)


def _proof_events(log_group: str) -> dict[str, Any]:
    from sklambda.monitor.notifier.logevents import encode

    rid = "8f5e3c2a-1b4d-4e6f-9a0b-1c2d3e4f5a6b"
    stream = "2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef"
    lines = [
        json.dumps({"level": "ERROR", "requestId": rid, "errorType": "ZeroDivisionError"}),
        f"REPORT RequestId: {rid}\tDuration: 2.00 ms\tStatus: error",  # the same failure
        "Task timed out after 3.00 seconds",
        '{"_aws": {"CloudWatchMetrics": []}, "Errors5xx": 1}',  # a metrics line: not a failure
    ]
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": stream,
        "subscriptionFilters": ["sklambda-alerts"],
        "logEvents": [
            {"id": str(i), "timestamp": 1767225600000 + i, "message": m}
            for i, m in enumerate(lines)
        ],
    }
    control = {**data, "messageType": "CONTROL_MESSAGE", "logEvents": []}
    alarm = {
        "AlarmName": "sklambda-proof-errors",
        "NewStateValue": "ALARM",
        "NewStateReason": "Threshold Crossed: 1 datapoint [5.0] was greater than 1.0",
        "AlarmArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:sklambda-proof-errors",
    }
    sns = {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(alarm)}}]}
    return {"control": encode(control), "data": encode(data), "alarm": sns}


def prove(dist: Path, python: Path) -> dict[str, Any]:
    """Run the notifier package in the emulator against the stand-ins; what it showed."""
    from sklambda.local import LocalFunction, LogLine
    from sklambda.monitor.standins import ParameterStandIn, TelegramStandIn

    token = f"{secrets.randbelow(10**9)}:proof-{secrets.token_urlsafe(24)}"
    log: list[str] = []

    def keep(line: LogLine) -> None:
        log.append(line.text)

    events = _proof_events("/aws/lambda/proof-model")
    checks: list[str] = []
    problem = ""
    with TelegramStandIn(token) as telegram, ParameterStandIn({PROOF_PARAMETER: token}) as ssm:
        env = _proof_env(telegram.url, ssm.url)
        with LocalFunction(
            dist, memory=128, timeout=30, concurrency=1, python=python, env=env, on_log=keep
        ) as function:
            for kind, wanted in (("control", 0), ("data", 1), ("alarm", 2), ("test", 3)):
                event = notifier.TEST_EVENT if kind == "test" else events[kind]
                result = function.invoke(event)
                if result.error or len(telegram.messages) != wanted:
                    problem = problem or (
                        f"{kind} event: error {result.error} {result.payload}, "
                        f"{len(telegram.messages)} messages sent, {wanted} expected"
                    )
                    break
                checks.append(f"{kind} event → {wanted} messages in all")
            reports = function.reports
    texts = [m.text for m in telegram.messages]
    if not problem and not ("1 error<" in texts[0] and "1 timeout<" in texts[0]):
        problem = f"the failures message counts wrongly: {texts[0]!r}"
    if not problem and ssm.calls != 1:
        problem = f"the token was read {ssm.calls} times, not once per environment"
    if not problem and any(token in line for line in log):
        problem = "the bot token appeared in the function's log"
    if not problem:
        checks += ["one failure counted once per request", "token read once", "token never logged"]
    inits = [r.init_duration_ms for r in reports if r.init_duration_ms is not None]
    return {
        "ok": not problem,
        "detail": problem or "notifier proven against Telegram and SSM stand-ins",
        "checks": checks,
        "interpreter": str(python),
        "init_ms": round(inits[0], 1) if inits else None,
    }


def _proof_env(telegram_url: str, ssm_url: str) -> dict[str, str]:
    return {
        notifier.API_URL_ENV: telegram_url,
        notifier.CHAT_ID_ENV: "424242",
        notifier.TOKEN_PARAMETER_ENV: PROOF_PARAMETER,
        notifier.FUNCTION_ENV: "proof-model",
        notifier.MODEL_ENV: "proof",
        notifier.MODEL_VERSION_ENV: "0123456789ab",
        notifier.WINDOW_ENV: "0",
        # Credentials for the stand-in only; a deployed notifier gets its role's from Lambda.
        "AWS_ACCESS_KEY_ID": "proof",
        "AWS_SECRET_ACCESS_KEY": "proof",
        "AWS_ENDPOINT_URL_SSM": ssm_url,
    }
