"""The extra cold start of a model kept in S3 (``build --model-from s3``).

One model (an MLP on iris with two hidden layers of ``--units``, so its weights are several MB)
built twice: the files in the package, and the files in S3. The S3 form is deployed to moto's
server on loopback (the upload sklambda does), then both run in the local emulator, a fresh
environment per cold start; the S3 one fetches its files from moto with the handler's own SigV4
GET and checks their sha256 during INIT. Reported: REPORT ``Init Duration`` medians.

Loopback S3 is faster than S3 from a Lambda environment (tens of MB/s to a few hundred, plus a
request's latency): the measured difference is the fetch-and-verify work, a lower bound.

Usage: ``uv run python benchmarks/bench_model_s3.py [--units N] [--colds N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from results import write_section

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


def bundle(root: Path, units: int) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.neural_network import MLPClassifier

    import sklambda

    X, y = load_iris(return_X_y=True, as_frame=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a few iterations: the size is the point, not the fit
        model = MLPClassifier((units, units), max_iter=3, random_state=0).fit(X, y)
    sklambda.save(model, root / "mlp", X_sample=X, name="mlp")
    return root / "mlp"


def init_ms(dist: Path, env: dict[str, str], colds: int) -> list[float]:
    from sklambda.local import LocalFunction
    from sklambda.local.url_events import post_event

    body = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
    samples = []
    for _ in range(colds):
        with LocalFunction(dist, memory=1024, concurrency=1, env=env) as function:
            result = function.invoke(post_event(body))
        if result.error or result.report.init_duration_ms is None:
            raise SystemExit(f"{dist}: {result.error} {result.log_lines}")
        samples.append(result.report.init_duration_ms)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--colds", type=int, default=7)
    args = parser.parse_args()
    os.environ.update(CREDENTIALS, AWS_DEFAULT_REGION="us-east-1")
    from moto.server import ThreadedMotoServer

    from sklambda.aws import AwsClient, deploy
    from sklambda.building import build

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            source = bundle(root, args.units)
            packaged = build(source, root / "packaged", python="3.12", model_from="package").dist
            in_s3 = build(source, root / "in-s3", python="3.12", model_from="s3").dist
            client = AwsClient(region="us-east-1", endpoint_url=endpoint)
            deploy(client, in_s3, "bench-s3")
            config = client.call("lambda", "GetFunctionConfiguration", FunctionName="bench-s3")
            env = {
                **CREDENTIALS,
                **config["Environment"]["Variables"],
                "SKLAMBDA_S3_ENDPOINT": endpoint,
            }
            store = json.loads((in_s3 / "build.json").read_text())["model_store"]
            base = init_ms(packaged, {}, args.colds)
            fetched = init_ms(in_s3, env, args.colds)
    finally:
        server.stop()
    base_ms, s3_ms = statistics.median(base), statistics.median(fetched)
    body = f"""
Model: MLPClassifier on iris, two hidden layers of {args.units} (lean runtime + numpy), model
files {store["bytes"] / 2**20:.1f} MiB; {args.colds} cold starts each, fresh environments,
1,024 MB, S3 = moto's server on loopback.

| model files | INIT Duration median (ms) | min–max |
|---|---:|---:|
| in the package | {base_ms:.1f} | {min(base):.1f}–{max(base):.1f} |
| in S3, fetched + sha256-checked at INIT | {s3_ms:.1f} | {min(fetched):.1f}–{max(fetched):.1f} |

- extra cold start of the S3 form: **{s3_ms - base_ms:+.1f} ms** for
  {store["bytes"] / 2**20:.1f} MiB (a lower bound: real S3 adds request latency and is slower
  than loopback)
"""
    write_section("bench_model_s3.py", body)
    print(body)


if __name__ == "__main__":
    main()
