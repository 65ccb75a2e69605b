"""``sklambda.deploy``: a fitted estimator (or a bundle, or a package) → a live function URL.

One call does what the CLI does in three (save, build, deploy); the module is ``deploying`` so
that ``sklambda.deploy`` stays the function.
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.errors import BundleError

if TYPE_CHECKING:
    import boto3

    from sklambda.aws.client import AwsClient
    from sklambda.aws.deployer import DeployResult
    from sklambda.monitor.options import MonitorOptions


@dataclass(frozen=True)
class Deployment:
    """A deployed model.

    Attributes
    ----------
    url:
        The function URL (alias ``live``).
    version:
        The function version ``live`` points at.
    build:
        The build report (``build.json``) of the package that was deployed.
    result:
        Everything else the deploy reported (actions, ARNs, auth type, example request).
    dist:
        The package directory when it was kept (``out`` given, or a package passed in), else
        ``None`` (built in a temporary directory, removed after the upload).
    """

    url: str
    version: str
    build: dict[str, Any]
    result: DeployResult
    dist: Path | None

    @property
    def name(self) -> str:
        return self.result.name

    def example_command(self) -> str:
        return self.result.example_command()


def deploy(
    estimator_or_bundle_path: Any,
    *,
    name: str,
    X_sample: Any = None,
    public: bool = False,
    region: str | None = None,
    endpoint_url: str | None = None,
    memory: int = 1024,
    timeout: int = 30,
    arch: str | None = None,
    python: str | None = None,
    role_arn: str | None = None,
    s3_bucket: str | None = None,
    env: dict[str, str] | None = None,
    adopt: bool = False,
    out: str | Path | None = None,
    trust_pickle: bool = False,
    trusted_types: tuple[str, ...] | list[str] = (),
    session: boto3.session.Session | None = None,
    client: AwsClient | None = None,
    on_progress: Callable[[str], None] | None = None,
    monitoring: MonitorOptions | None = None,
    profile: str | None = None,
    keep_warm: str | None = None,
    keep_warm_concurrency: int = 1,
    provisioned: int | None = None,
    max_concurrency: int | None = None,
    snapstart: bool | None = None,
    cors_origins: tuple[str, ...] | None = None,
) -> Deployment:
    """Save (if needed), build with the automatic runtime, and deploy behind a function URL.

    Parameters
    ----------
    estimator_or_bundle_path:
        A fitted scikit-learn estimator, a bundle directory (``sklambda.save`` /
        ``sklambda train``), or a package directory (``sklambda build``: deployed as is).
    name:
        The Lambda function name (and the bundle's name when an estimator is saved).
    X_sample:
        Required with an estimator: a DataFrame of representative rows (or the feature names).
    public:
        ``True``: a URL anyone can call (``AuthType=NONE`` plus both permissions a public URL
        needs). Default ``AWS_IAM``: only SigV4-signed callers.
    region, endpoint_url, session:
        Where to deploy (default: the usual AWS chain). ``client`` overrides all three.
    memory, timeout, arch, role_arn, s3_bucket, env, adopt:
        As the ``sklambda deploy`` flags of the same names.
    python, arch:
        The Lambda Python version and architecture to build for (default ``python`` ``auto``:
        the newest Lambda Python with wheels of the versions the model was trained with).
    trust_pickle, trusted_types:
        As :func:`sklambda.load`: a joblib bundle, your own types inside the model.
    out:
        Keep the built package in this directory (default: a temporary one).
    on_progress:
        Called with each step as it starts (building, then each deploy step); sklambda draws
        nothing itself.
    monitoring:
        Alarms and log retention (:class:`sklambda.monitor.options.MonitorOptions`; default:
        30 days of logs, the alarms a previous deploy made).
    profile:
        A named AWS profile (``--profile``).
    keep_warm, keep_warm_concurrency, provisioned, max_concurrency, snapstart, cors_origins:
        As the ``sklambda deploy`` flags (:class:`sklambda.aws.DeployOptions`); None leaves
        what is deployed as it is.

    Returns
    -------
    Deployment
        ``.url``, ``.version``, ``.build`` (the build report) and the full ``.result``.

    Examples
    --------
    >>> live = sklambda.deploy(model, name="houses", X_sample=X_train.head(50))  # doctest: +SKIP
    >>> live.url  # doctest: +SKIP
    'https://abc….lambda-url.us-east-1.on.aws/'
    """
    from sklambda.aws.client import AwsClient
    from sklambda.aws.deployer import DeployOptions, check_name
    from sklambda.aws.deployer import deploy as deploy_package
    from sklambda.aws.package import read_package
    from sklambda.bundle.format import MANIFEST
    from sklambda.dist import BUILD_JSON

    check_name(name)
    # Options are checked before anything is saved or built: a typo should not cost a build.
    options = DeployOptions(
        memory=memory,
        timeout=timeout,
        arch=arch,
        public=public,
        role_arn=role_arn,
        s3_bucket=s3_bucket,
        env=dict(env or {}),
        adopt=adopt,
        keep_warm=keep_warm,
        keep_warm_concurrency=keep_warm_concurrency,
        provisioned=provisioned,
        max_concurrency=max_concurrency,
        snapstart=snapstart,
        cors_origins=cors_origins,
    )
    if monitoring is not None:
        options = dataclasses.replace(options, monitoring=monitoring)
    if client is None:
        client = AwsClient(
            session=session, region=region, profile=profile, endpoint_url=endpoint_url
        )
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sklambda-deploy-")))
        source = estimator_or_bundle_path
        kept: Path | None = None
        if isinstance(source, str | Path) and (Path(source) / BUILD_JSON).is_file():
            dist = Path(source)
            kept = dist
        else:
            if isinstance(source, str | Path):
                bundle = Path(source)
                if not (bundle / MANIFEST).is_file():
                    raise BundleError(
                        f"{bundle} is neither a bundle ({MANIFEST}) nor a package ({BUILD_JSON})"
                    )
            else:
                if X_sample is None:
                    raise BundleError(
                        "deploying an estimator needs X_sample: a DataFrame of a few "
                        "representative input rows (or the list of feature names)"
                    )
                from sklambda.bundle.store import save

                bundle = tmp / "bundle"
                save(source, bundle, X_sample=X_sample, name=name, trusted_types=trusted_types)
            from sklambda.building.builder import build

            target = Path(out) if out is not None else tmp / "dist"
            if on_progress:
                on_progress(f"building and verifying {name}…")
            dist = build(
                bundle,
                target,
                python=python,
                arch=arch or "x86_64",
                trust_pickle=trust_pickle,
                trusted_types=tuple(trusted_types),
            ).dist
            kept = dist if out is not None else None
        package = read_package(dist)
        result = deploy_package(client, package, name, options, on_progress=on_progress)
    return Deployment(
        url=result.url,
        version=result.version,
        build=package.report,
        result=result,
        dist=kept,
    )
