"""Deploy errors: botocore's exceptions translated into messages that say what to do.

Every class is a :class:`~sklambda.errors.SklambdaError`, so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import re
from typing import Any

from sklambda.errors import SklambdaError

# Lambda does not offer function URLs here (reference/lambda.md); deploying would get as far as the
# function and then fail, so the region is refused before anything is created.
REGIONS_WITHOUT_FUNCTION_URLS = frozenset(
    {
        "ap-south-2",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-east-2",
        "ca-west-1",
        "eu-south-2",
        "eu-central-2",
        "il-central-1",
        "me-central-1",
    }
)

# S3 names its operations differently from the IAM actions that allow them.
_S3_ACTIONS = {"HeadObject": "s3:GetObject", "HeadBucket": "s3:ListBucket"}
_IAM_SERVICE = {"lambda": "lambda", "iam": "iam", "s3": "s3", "sts": "sts"}


class AwsError(SklambdaError):
    """An AWS call failed in a way the user can act on.

    ``code`` is AWS's error code (``ResourceConflictException``...) when the error came from AWS.
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class CredentialsError(AwsError):
    """No usable AWS credentials were found, or AWS rejected them."""


class RegionError(AwsError):
    """No region, an unknown region, or a region without what sklambda needs."""


class PermissionDeniedError(AwsError):
    """The caller's IAM identity lacks a permission; the message names it."""


class PackageTooLargeError(AwsError):
    """An artifact is over one of Lambda's size limits; the message names the limit."""


class NotManagedError(AwsError):
    """A function or role of that name exists but was not created by sklambda."""


class NotConfirmedError(AwsError):
    """A destructive command was not confirmed (``--yes``, or the answer on a terminal)."""


class DeployError(AwsError):
    """The deployment could not complete (a failed update, a missing resource...)."""


def _action(service: str, operation: str) -> str:
    if service == "s3" and operation in _S3_ACTIONS:
        return _S3_ACTIONS[operation]
    return f"{_IAM_SERVICE.get(service, service)}:{operation}"


def translate(exc: Exception, service: str, operation: str) -> Exception:
    """Turn a botocore exception into one of ours (or return it unchanged if it is not known).

    Parameters
    ----------
    exc:
        What botocore raised.
    service, operation:
        The boto3 service name (``lambda``, ``iam``, ``s3``, ``sts``) and API operation
        (``CreateFunction``), used to name the missing permission.
    """
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return CredentialsError(no_credentials_message())
    if isinstance(exc, NoRegionError):
        return RegionError(no_region_message())
    if isinstance(exc, EndpointConnectionError):
        return AwsError(
            f"cannot reach the AWS endpoint {exc.kwargs.get('endpoint_url', '')}: check the "
            "region, the network, or --endpoint-url"
        )
    if not isinstance(exc, ClientError):
        return exc
    error: dict[str, Any] = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    # Credential problems come first: AWS answers them with 403 too.
    if code in {
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
    }:
        return CredentialsError(
            f"AWS rejected the credentials ({code}): refresh them (aws sso login, aws configure) "
            "or check AWS_PROFILE / AWS_ACCESS_KEY_ID",
            code,
        )
    if code in {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"} or status == 403:
        # AWS usually names the action ("...is not authorized to perform: lambda:CreateFunction
        # on resource: ..."); when it does not, the operation tells us.
        named = re.search(r"perform: ([\w-]+:[\w-]+)", message)
        action = named.group(1) if named else _action(service, operation)
        return PermissionDeniedError(
            f"AWS denied {operation}: your identity needs the IAM permission {action}"
            + (f" ({message})" if message else ""),
            code,
        )
    if code in {"RequestEntityTooLargeException", "CodeStorageExceededException"} or (
        code == "InvalidParameterValueException" and "size" in message.lower()
    ):
        return PackageTooLargeError(
            f"{operation} refused the package ({message or code}); Lambda's limits: 50 MiB zipped "
            "for a direct upload (larger goes through S3, see --s3-bucket), 250 MiB unzipped for "
            "the function and its layers together, 75 GB of code storage per region (delete old "
            "versions or layers)",
            code,
        )
    if not code and status == 404:
        code = "404"
    return AwsError(f"{operation} failed: {code}: {message}", code)


def no_credentials_message() -> str:
    return (
        "no AWS credentials found: run `aws configure` (or `aws sso login --profile P` and set "
        "AWS_PROFILE=P), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )


def no_region_message() -> str:
    return (
        "no AWS region set: pass --region (e.g. --region us-east-1), set AWS_REGION or "
        "AWS_DEFAULT_REGION, or run `aws configure set region us-east-1`"
    )
