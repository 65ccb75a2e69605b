"""Run a built package locally as AWS Lambda would: Runtime API, sandboxed processes, function URL.

No Docker: each execution environment is a child process of the target Python version in isolated
mode, driven by the official runtime client ``awslambdaric`` through a Runtime API server on
loopback; a function URL front turns HTTP requests into payload-2.0 events and also accepts the
Invoke API, so ``boto3.client("lambda", endpoint_url=...)`` works.
"""

from sklambda.local.cors import Cors
from sklambda.local.dist import Dist, load_dist
from sklambda.local.errors import (
    DistError,
    LocalError,
    RequestTooLargeError,
    RuntimeClientError,
    SettingsError,
    TooManyRequestsError,
)
from sklambda.local.function import EnvironmentInfo, InvokeResult, LocalFunction
from sklambda.local.function_url import LocalServer, RequestRecord, serve
from sklambda.local.http_server import FrontLimits
from sklambda.local.iam_auth import IamCredentials
from sklambda.local.logs import LogLine
from sklambda.local.report import Report

__all__ = [
    "Cors",
    "Dist",
    "DistError",
    "EnvironmentInfo",
    "FrontLimits",
    "IamCredentials",
    "InvokeResult",
    "LocalError",
    "LocalFunction",
    "LocalServer",
    "LogLine",
    "Report",
    "RequestRecord",
    "RequestTooLargeError",
    "RuntimeClientError",
    "SettingsError",
    "TooManyRequestsError",
    "load_dist",
    "serve",
]
