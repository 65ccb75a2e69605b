"""botocore errors → sklambda's: real botocore exception objects, as boto3 raises them."""

from __future__ import annotations

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from sklambda.aws.errors import (
    REGIONS_WITHOUT_FUNCTION_URLS,
    AwsError,
    CredentialsError,
    PackageTooLargeError,
    PermissionDeniedError,
    RegionError,
    translate,
)
from sklambda.errors import SklambdaError


def _client_error(code: str, message: str, status: int = 400) -> ClientError:
    response = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "Operation")  # type: ignore[arg-type]


def test_access_denied_names_the_permission() -> None:
    message = (
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: "
        "iam:PassRole on resource: arn:aws:iam::123456789012:role/sklambda-houses"
    )
    error = translate(
        _client_error("AccessDeniedException", message, 403), "lambda", "CreateFunction"
    )
    assert isinstance(error, PermissionDeniedError)
    assert "needs the IAM permission iam:PassRole" in str(error)
    assert error.code == "AccessDeniedException"

    # No action in the message: the operation names it.
    bare = translate(_client_error("AccessDenied", "Access Denied", 403), "iam", "CreateRole")
    assert "needs the IAM permission iam:CreateRole" in str(bare)
    s3 = translate(_client_error("403", "Forbidden", 403), "s3", "HeadObject")
    assert "s3:GetObject" in str(s3)


def test_too_large_names_the_limits() -> None:
    error = translate(
        _client_error("RequestEntityTooLargeException", "Request must be smaller than 70167211"),
        "lambda",
        "CreateFunction",
    )
    assert isinstance(error, PackageTooLargeError)
    assert "50 MiB zipped" in str(error) and "250 MiB unzipped" in str(error)
    unzipped = translate(
        _client_error(
            "InvalidParameterValueException",
            "Unzipped size must be smaller than 262144000 bytes",
        ),
        "lambda",
        "UpdateFunctionCode",
    )
    assert isinstance(unzipped, PackageTooLargeError)
    assert "262144000" in str(unzipped)


def test_credentials_and_region() -> None:
    none = translate(NoCredentialsError(), "lambda", "GetFunction")
    assert isinstance(none, CredentialsError)
    assert "aws configure" in str(none) and "AWS_ACCESS_KEY_ID" in str(none)
    rejected = translate(
        _client_error("UnrecognizedClientException", "The security token is invalid", 403),
        "lambda",
        "GetFunction",
    )
    assert isinstance(rejected, CredentialsError)
    assert "refresh them" in str(rejected)
    region = translate(NoRegionError(), "lambda", "GetFunction")
    assert isinstance(region, RegionError)
    assert "--region" in str(region) and "AWS_REGION" in str(region)


def test_other_errors_keep_code_and_message() -> None:
    unreachable = translate(
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), "lambda", "GetFunction"
    )
    assert isinstance(unreachable, AwsError)
    assert "http://127.0.0.1:9" in str(unreachable)
    conflict = translate(
        _client_error("ResourceConflictException", "The statement id exists"),
        "lambda",
        "AddPermission",
    )
    assert type(conflict) is AwsError
    assert conflict.code == "ResourceConflictException"
    assert (
        str(conflict) == "AddPermission failed: ResourceConflictException: The statement id exists"
    )
    assert isinstance(conflict, SklambdaError)  # the CLI prints one line, exit 2
    plain = ValueError("not botocore")
    assert translate(plain, "lambda", "GetFunction") is plain


@pytest.mark.parametrize("region", sorted(REGIONS_WITHOUT_FUNCTION_URLS))
def test_regions_without_function_urls_are_lambda_regions(region: str) -> None:
    """The list names real Lambda regions (so a typo in it would not silently pass)."""
    import boto3

    from sklambda.aws.client import known_lambda_regions

    assert region in known_lambda_regions(boto3.session.Session())
