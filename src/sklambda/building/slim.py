"""Slimming a site-packages tree for Lambda, with rules that are safe *and proven*.

The usual tricks break imports silently: `strip` on the OpenBLAS copies under ``*.libs/`` makes
them unloadable (``ELF load command address/offset not page-aligned``), deleting every
``tests/`` folder breaks numpy releases that import a test module at run time, deleting
``*.dist-info`` breaks ``importlib.metadata``. The rules here avoid those traps, each records the
bytes it saved, and the result is only ever shipped after the package predicted correctly in the
local emulator (see :mod:`sklambda.verify`).

What a prediction imports is learned by a *trace*: the model is loaded and asked to predict in the
target interpreter over the unslimmed tree, and every module file it loaded is kept.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_SUFFIXES = (".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".hpp", ".pyi")
# Data bundled for examples and tutorials, never for predicting.
DATA_DIRS = ("sklearn/datasets/data", "sklearn/datasets/descr", "sklearn/datasets/images")

TRACE_SCRIPT = r"""
import sys, json
site, task, model_dir, rows_file = sys.argv[1:5]
sys.path[:0] = [task, site]
from sklambda.runtime.sklearn_predict import load
predictor = load(model_dir)
with open(rows_file) as handle:
    rows = json.load(handle)
predictor.predict(rows)
if hasattr(predictor.estimator, "predict_proba"):
    try:
        predictor.predict_proba(rows)
    except Exception:
        pass
loaded = set()
for module in list(sys.modules.values()):
    path = getattr(module, "__file__", None)
    if path and path.startswith(site):
        loaded.add(path[len(site):].lstrip("/"))
print(json.dumps(sorted(loaded)))
"""


@dataclass
class RuleResult:
    """One slimming rule: what it did and the bytes it saved."""

    rule: str
    description: str
    files: int = 0
    bytes_saved: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "description": self.description,
            "files": self.files,
            "bytes_saved": self.bytes_saved,
        }


@dataclass
class SlimReport:
    """Per-rule savings and per-package sizes before and after."""

    rules: list[RuleResult] = field(default_factory=list)
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "rules": [r.to_dict() for r in self.rules],
            "packages": {
                name: {"before_bytes": self.before.get(name, 0), "after_bytes": size}
                for name, size in self.after.items()
            },
        }


def package_sizes(site: Path) -> dict[str, int]:
    """Unzipped bytes per top-level entry (``numpy``, ``numpy.libs``, ``scipy``...)."""
    sizes: dict[str, int] = {}
    for entry in sorted(site.iterdir()):
        name = entry.name.split("-")[0] if entry.name.endswith(".dist-info") else entry.name
        name = name.removesuffix(".py").removesuffix(".pyc")
        size = entry.stat().st_size if entry.is_file() else _tree_bytes(entry)
        sizes[name] = sizes.get(name, 0) + size
    return sizes


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def trace_imports(
    interpreter: Path, site: Path, task_root: Path, rows: list[list[object]]
) -> set[str]:
    """Files under ``site`` that the packaged runtime imports to load the model and predict.

    Runs ``sklambda.runtime.sklearn_predict`` from the staged ``task_root``, in the target
    interpreter, isolated from the host's site-packages: the same code path as in Lambda.
    """
    site, task_root = site.absolute(), task_root.absolute()
    rows_file = site.parent / ".trace-rows.json"
    rows_file.write_text(json.dumps(rows))
    try:
        result = subprocess.run(
            [
                str(interpreter),
                "-I",
                "-S",
                "-B",  # the trace must not leave bytecode caches in the layer
                "-c",
                TRACE_SCRIPT,
                str(site),
                str(task_root),
                str(task_root / "model"),
                str(rows_file),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    finally:
        rows_file.unlink(missing_ok=True)
    if result.returncode != 0:
        tail = result.stderr.strip().splitlines()[-3:]
        raise RuntimeError("tracing the model's imports failed: " + " | ".join(tail))
    loaded = set(json.loads(result.stdout))
    if not any(path.startswith("sklearn/") for path in loaded):
        # An empty trace would let the rules that keep what is imported keep nothing.
        raise RuntimeError(f"tracing the model's imports saw no scikit-learn module under {site}")
    return loaded


def _remove(paths: Iterable[Path], rule: RuleResult) -> None:
    for path in paths:
        if path.is_symlink() or path.is_file():
            rule.files += 1
            rule.bytes_saved += path.lstat().st_size
            path.unlink()
        elif path.is_dir():
            for sub in path.rglob("*"):
                if sub.is_file():
                    rule.files += 1
                    rule.bytes_saved += sub.stat().st_size
            shutil.rmtree(path)


def _package_dirs(site: Path) -> list[Path]:
    """Directories that are Python packages (hold an ``__init__.py``)."""
    return [p.parent for p in site.rglob("__init__.py")]


def drop_tests(site: Path, keep: set[str]) -> RuleResult:
    """Remove test suites, except files that a prediction imports (``keep``)."""
    rule = RuleResult(
        "tests", "test suites (tests/, test/ packages) except files imported at run time"
    )
    for tests in sorted(site.rglob("tests")) + sorted(site.rglob("test")):
        if not tests.is_dir() or not tests.exists():
            continue
        rel = tests.relative_to(site).as_posix()
        kept = [k for k in keep if k.startswith(rel + "/")]
        if not kept:
            _remove([tests], rule)
            continue
        # Keep the imported files and the __init__.py files that make them importable.
        needed = set()
        for k in kept:
            parts = Path(k).parts
            for i in range(len(rel.split("/")), len(parts)):
                needed.add(Path(*parts[: i + 1]).as_posix())
                needed.add(Path(*parts[:i], "__init__.py").as_posix())
        _remove(
            [
                f
                for f in tests.rglob("*")
                if f.is_file() and f.relative_to(site).as_posix() not in needed
            ],
            rule,
        )
    return rule


def drop_installer_files(site: Path) -> RuleResult:
    """What the installer leaves beside the packages: console scripts, its lock file."""
    rule = RuleResult("installer", "console scripts (bin/) and the installer's lock file")
    _remove([p for p in (site / "bin", site / ".lock") if p.exists()], rule)
    return rule


def drop_sources(site: Path) -> RuleResult:
    rule = RuleResult(
        "sources", "Cython/C sources, headers and type stubs (.pyx .pxd .c .h .pyi …)"
    )
    _remove([p for p in site.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES], rule)
    return rule


def drop_data(site: Path) -> RuleResult:
    rule = RuleResult("data", "example data sets bundled with scikit-learn (never used to predict)")
    _remove([site / d for d in DATA_DIRS if (site / d).exists()], rule)
    return rule


def strip_extensions(site: Path, *, include_libs: bool = False) -> RuleResult:
    """`strip --strip-unneeded` extension modules; never the vendored ``*.libs/`` (unless asked,
    which is the trap the tests demonstrate)."""
    rule = RuleResult(
        "strip",
        "debug symbols stripped from extension modules outside *.libs/",
    )
    strip = shutil.which("strip")
    if strip is None:
        rule.description += " (skipped: no `strip` on this machine)"
        return rule
    targets = [
        p
        for p in site.rglob("*.so*")
        if p.is_file() and (include_libs or not any(part.endswith(".libs") for part in p.parts))
    ]
    for path in targets:
        before = path.stat().st_size
        done = subprocess.run(
            [strip, "--strip-unneeded", str(path)], capture_output=True, check=False
        )
        if done.returncode == 0:
            saved = before - path.stat().st_size
            if saved > 0:
                rule.files += 1
                rule.bytes_saved += saved
    return rule


def drop_unimported_packages(site: Path, loaded: set[str], roots: Iterable[str]) -> RuleResult:
    """Remove subpackages of ``roots`` from which a prediction imports nothing at all."""
    rule = RuleResult(
        "unimported",
        "subpackages a prediction never imports (proven by the trace and by verification)",
    )
    used_dirs = {Path(f).parent.as_posix() for f in loaded}

    def used(rel: str) -> bool:
        return any(u == rel or u.startswith(rel + "/") for u in used_dirs)

    candidates = sorted(
        (p for p in _package_dirs(site) if p.relative_to(site).parts[0] in set(roots)),
        key=lambda p: len(p.parts),
    )
    removed: list[Path] = []
    for package in candidates:
        rel = package.relative_to(site).as_posix()
        if "/" not in rel or any(package.is_relative_to(r) for r in removed):
            continue  # never a top-level package itself
        if not used(rel):
            removed.append(package)
    _remove(removed, rule)
    return rule


def sourceless(site: Path, interpreter: Path, lambda_path: str) -> RuleResult:
    """Compile every module to a ``.pyc`` beside it and drop the ``.py`` (PEP 3147 legacy
    layout, which CPython imports without source): bytecode for the target at about the size of
    the sources alone."""
    rule = RuleResult(
        "sourceless",
        "Python sources replaced by their compiled .pyc (same size, no compile at import)",
    )
    from sklambda.building.bytecode import compile_tree

    before = _tree_bytes(site)
    compile_tree(site, interpreter, lambda_path, beside=True)
    sources = [p for p in site.rglob("*.py") if p.with_suffix(".pyc").is_file()]
    rule.files = len(sources)
    for path in sources:
        path.unlink()
    rule.bytes_saved = before - _tree_bytes(site)
    return rule


# Rules in the order they run. The two trap rules exist only to show (in tests) that
# verification catches what they break; they are never defaults.
SAFE_RULES = ("installer", "tests", "sources", "data", "strip", "unimported", "sourceless")
TRAP_RULES = ("tests-all", "strip-libs")


def apply_rules(
    site: Path, rules: Iterable[str], loaded: set[str], interpreter: Path | None
) -> SlimReport:
    """Run ``rules`` over ``site``. ``loaded`` is the import trace: the rules that keep what a
    prediction imports are skipped without one (keeping everything is safe; guessing is not)."""
    report = SlimReport(before=package_sizes(site))
    actions: dict[str, Callable[[], RuleResult]] = {
        "installer": lambda: drop_installer_files(site),
        "tests": lambda: drop_tests(site, keep=loaded),
        "tests-all": lambda: drop_tests(site, keep=set()),
        "sources": lambda: drop_sources(site),
        "data": lambda: drop_data(site),
        "strip": lambda: strip_extensions(site),
        "strip-libs": lambda: strip_extensions(site, include_libs=True),
        "unimported": lambda: drop_unimported_packages(
            site, loaded, roots=("scipy", "sklearn", "joblib")
        ),
    }
    if interpreter is not None:
        actions["sourceless"] = lambda: sourceless(site, interpreter, "/opt/python")
    for rule in rules:
        if rule not in SAFE_RULES + TRAP_RULES:
            raise ValueError(f"unknown slimming rule {rule!r}; rules: {', '.join(SAFE_RULES)}")
        if rule in ("tests", "unimported") and not loaded:
            continue
        if rule in actions:
            report.rules.append(actions[rule]())
    report.after = package_sizes(site)
    return report
