"""The public surface, and what importing sklambda costs (modules loaded, never timings)."""

from __future__ import annotations

import json
import subprocess
import sys

import sklambda

HEAVY = ("pandas", "sklearn", "scipy", "boto3", "botocore", "matplotlib", "skops", "sqlalchemy")


def test_public_api_is_what_it_should_be() -> None:
    assert sorted(sklambda.__all__) == sorted(
        [
            "BundleError",
            "DataError",
            "Model",
            "RequestError",
            "SklambdaError",
            "SklambdaVersionWarning",
            "TrainError",
            "TrainResult",
            "UntrustedModelError",
            "__version__",
            "deploy",
            "import_legacy",
            "load",
            "save",
            "train",
        ]
    )
    for name in sklambda.__all__:
        assert getattr(sklambda, name) is not None
    assert callable(sklambda.train) and callable(sklambda.deploy)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return {m.split(".")[0] for m in json.loads(out.stdout.splitlines()[-1])}


def test_import_and_cli_parser_load_nothing_heavy() -> None:
    for code in ("import sklambda", "import sklambda.cli as c; c.build_parser()"):
        loaded = _modules_after(code)
        assert not loaded.intersection(HEAVY), (code, sorted(loaded.intersection(HEAVY)))


def test_the_lambda_runtime_imports_only_the_standard_library() -> None:
    loaded = _modules_after(
        "import sklambda.runtime.service, sklambda.runtime.lean_predict, "
        "sklambda.runtime.sklearn_predict"
    )
    foreign = {m for m in loaded if m not in sys.stdlib_module_names} - {"sklambda", "__main__"}
    assert foreign == set()
