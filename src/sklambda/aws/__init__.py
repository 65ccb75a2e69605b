"""Deploy stage: a built package → IAM role, layer, function, alias ``live``, function URL.

boto3 is imported only inside the functions that call AWS, so importing this package is cheap.

- :class:`AwsClient` — the one client over boto3 (session, region, endpoint, clock injectable);
- :func:`deploy`, :func:`plan_deploy`, :func:`dry_run`, :class:`DeployOptions`,
  :class:`DeployResult`;
- :func:`status`, :func:`rollback`, :func:`promote` (ends a canary), :func:`destroy`;
- :func:`export` — SAM ``template.yaml`` or ``serverless.yml``;
- errors in :mod:`sklambda.aws.errors`.
"""

from __future__ import annotations

from sklambda.aws.client import AwsClient
from sklambda.aws.deployer import DeployOptions, DeployResult, deploy, dry_run, plan_deploy
from sklambda.aws.errors import (
    AwsError,
    CredentialsError,
    DeployError,
    NotConfirmedError,
    NotManagedError,
    PackageTooLargeError,
    PermissionDeniedError,
    RegionError,
)
from sklambda.aws.teardown import DestroyResult, destroy
from sklambda.aws.templates import export
from sklambda.aws.versions import RollbackResult, Status, promote, rollback, status

__all__ = [
    "AwsClient",
    "AwsError",
    "CredentialsError",
    "DeployError",
    "DeployOptions",
    "DeployResult",
    "DestroyResult",
    "NotConfirmedError",
    "NotManagedError",
    "PackageTooLargeError",
    "PermissionDeniedError",
    "RegionError",
    "RollbackResult",
    "Status",
    "deploy",
    "destroy",
    "dry_run",
    "export",
    "plan_deploy",
    "promote",
    "rollback",
    "status",
]
