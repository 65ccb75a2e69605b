"""The ECR repository of a container-image deploy (``deploy --image-uri URI --create-repository``).

Container images stay the route for code (not data) over 250 MB. With ``--create-repository``
the deploy makes the image's repository when it is missing (tagged ``sklambda:managed``, scan on
push) and, when the image is not pushed yet, stops before anything else is changed with the
commands that push it; the next deploy goes on.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sklambda.aws.errors import DeployError

if TYPE_CHECKING:
    from sklambda.aws.client import AwsClient

_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>[\w.-]+)|@(?P<digest>sha256:[0-9a-f]{64}))$"
)


def parse_image_uri(uri: str) -> tuple[str, str, str, dict[str, str]]:
    """``(account, region, repository, imageId)`` of an ECR image URI."""
    match = _URI.match(uri)
    if not match:
        raise DeployError(
            f'"{uri}" is not an ECR image URI: ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPO:TAG '
            "(Lambda runs images from ECR only)"
        )
    image = {"imageDigest": match["digest"]} if match["digest"] else {"imageTag": match["tag"]}
    return match["account"], match["region"], match["repository"], image


def ensure_repository(client: AwsClient, uri: str, function: str) -> list[str]:
    """Create the repository if missing; refuse (with the push commands) while the image is not
    in it. What was done."""
    _account, region, repository, image = parse_image_uri(uri)
    if region != client.region:
        raise DeployError(
            f"the image is in {region} but the function deploys to {client.region}: Lambda "
            "needs the image in its own region"
        )
    said: list[str] = []
    found = client.maybe("ecr", "DescribeRepositories", repositoryNames=[repository])
    if found is None:
        client.call(
            "ecr",
            "CreateRepository",
            repositoryName=repository,
            imageScanningConfiguration={"scanOnPush": True},
            tags=[
                {"Key": "sklambda:managed", "Value": "true"},
                {"Key": "sklambda:function", "Value": function},
            ],
        )
        said.append(f"created ECR repository {repository}")
    pushed = client.maybe("ecr", "DescribeImages", repositoryName=repository, imageIds=[image])
    if pushed is None or not pushed.get("imageDetails"):
        registry = uri.split("/", 1)[0]
        raise DeployError(
            f"{'; '.join([*said, ''])}the image {uri} is not in ECR yet; push it, then deploy "
            f"again: aws ecr get-login-password --region {region} | docker login --username AWS "
            f"--password-stdin {registry} && docker build --platform linux/amd64 -t {uri} "
            f"DIST/image && docker push {uri}"
        )
    return said
