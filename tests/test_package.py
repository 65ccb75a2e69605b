"""The public surface, and what importing sklambda costs (modules loaded, never timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import sklambda

HEAVY = ("pandas", "sklearn", "scipy", "boto3", "botocore", "matplotlib", "skops", "sqlalchemy")


def test_public_api_is_what_it_should_be() -> None:
    assert sorted(sklambda.__all__) == sorted(
        [
            "BenchResults",
            "BuildError",
            "BuildResult",
            "BundleError",
            "CostEstimate",
            "DataError",
            "Model",
            "RequestError",
            "SklambdaError",
            "SklambdaVersionWarning",
            "TrainError",
            "TrainResult",
            "TuneResult",
            "UntrustedModelError",
            "__version__",
            "bench",
            "build",
            "cost",
            "deploy",
            "import_legacy",
            "load",
            "save",
            "train",
            "tune",
        ]
    )
    for name in sklambda.__all__:
        assert getattr(sklambda, name) is not None
    assert callable(sklambda.train) and callable(sklambda.deploy) and callable(sklambda.build)


def test_bench_tune_and_cost_stay_functions_once_their_stages_are_imported() -> None:
    """The trap the stage names avoid: ``sklambda/bench/`` would turn ``sklambda.bench`` into
    a package the moment any of its submodules were imported."""
    code = (
        "import sklambda, inspect\n"
        "import sklambda.benchmarking.results, sklambda.benchmarking.tuning\n"
        "import sklambda.costing.prices, sklambda.costing.estimate\n"
        "print([inspect.isfunction(f) for f in (sklambda.bench, sklambda.tune, sklambda.cost)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[True, True, True]"


def _modules() -> list[str]:
    import pkgutil

    return [
        m.name
        for m in pkgutil.walk_packages(sklambda.__path__, "sklambda.")
        if m.name != "sklambda.__main__"
    ]


def _source(module: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    return Path(spec.origin).read_text()


def _declared_all(package: str) -> set[str]:
    """A package's ``__all__``, read from its source (importing could run Lambda-side code)."""
    import ast

    for node in ast.parse(_source(package)).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            return set(ast.literal_eval(node.value))
    return set()


def test_no_module_is_named_like_a_public_name() -> None:
    # ``sklambda/build/`` would replace ``sklambda.build`` (the function) once a submodule of it
    # is imported: the attribute a package sets for its submodule wins. Checked for every
    # package that re-exports names (sklambda, sklambda.aws, sklambda.local, ...).
    modules = _modules()
    packages = ["sklambda", *(m for m in modules if Path(_origin(m)).name == "__init__.py")]
    clashes = []
    for package in packages:
        public = _declared_all(package)
        for module in modules:
            parent, _, leaf = module.rpartition(".")
            if parent == package and leaf in public:
                clashes.append(module)
    assert clashes == []


def _origin(module: str) -> str:
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    return spec.origin


def test_the_top_level_holds_stages_and_a_few_one_idea_modules() -> None:
    import pkgutil

    top = {m.name for m in pkgutil.iter_modules(sklambda.__path__)}
    assert top == {
        # the stages, in the order a model travels
        "data",
        "training",
        "bundle",
        "lean",
        "building",
        "local",
        "deploying",
        "aws",
        "runtime",
        "monitor",
        "benchmarking",
        "costing",
        # the shell and the one-idea modules every stage shares
        "cli",
        "errors",
        "limits",
        "dist",
        "files",
        "plotting",
        "_version",
        "__main__",
    }


def test_no_import_cycle_between_modules() -> None:
    """Top-level imports of every module form a DAG (lazy imports inside functions excepted)."""
    import ast

    graph: dict[str, set[str]] = {}
    known = {"sklambda", *_modules()}
    for name in _modules():
        tree = ast.parse(_source(name))
        deps: set[str] = set()
        for node in tree.body:  # module level only
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith("sklambda"):
                    # ``from pkg import submodule`` depends on the submodule, not on pkg/__init__
                    subs = {f"{node.module}.{a.name}" for a in node.names}
                    found = subs & known
                    deps.update(found or {node.module})
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith("sklambda"))
        graph[name] = (deps & known) - {name}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        if state.get(node) == 2:
            return
        assert state.get(node) != 1, f"import cycle: {' → '.join([*path, node])}"
        state[node] = 1
        for dep in graph.get(node, ()):
            visit(dep, [*path, node])
        state[node] = 2

    for name in graph:
        visit(name, [])


def test_local_and_aws_never_import_building_or_bundle() -> None:
    """The edges take a package directory, not a model: they must not reach into the middle."""
    import ast
    import importlib.util

    for name in _modules():
        if not name.startswith(("sklambda.local", "sklambda.aws", "sklambda.runtime")):
            continue
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        for node in ast.walk(ast.parse(_source(name))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(
                    ("sklambda.building", "sklambda.bundle", "sklambda.training", "sklambda.lean")
                ), (name, node.module)


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
        "sklambda.runtime.sklearn_predict, sklambda.runtime.metrics, sklambda.runtime.dates, "
        "sklambda.monitor.notifier.handler\n"
        "import pkgutil, importlib, sklambda.runtime.lean as families\n"
        "for m in pkgutil.iter_modules(families.__path__):\n"
        "    importlib.import_module('sklambda.runtime.lean.' + m.name)"
    )
    foreign = {m for m in loaded if m not in sys.stdlib_module_names} - {"sklambda", "__main__"}
    assert foreign == set()
