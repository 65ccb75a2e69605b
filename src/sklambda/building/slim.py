"""Slimming a site-packages tree for Lambda, with rules that are safe *and proven*.

The usual tricks break imports silently: `strip` on the OpenBLAS copies under ``*.libs/`` makes
them unloadable (``ELF load command address/offset not page-aligned``), deleting every
``tests/`` folder breaks numpy releases that import a test module at run time, deleting
``*.dist-info`` breaks ``importlib.metadata``. The rules here avoid those traps, each records the
bytes it saved, and the result is only ever shipped after the package predicted correctly in the
local emulator (see :mod:`sklambda.verify`).

What a prediction imports is learned by a *trace*: the model is loaded and asked to predict in the
target interpreter over the unslimmed tree, and every module file it loaded is kept. The
scikit-learn runtime is traced for the scikit-learn layer, the lean runtime for the numpy layer
(a lean model's numpy form), whose rules (:func:`numpy_rules`) also drop numpy's subpackages and
extension modules the trace never loaded.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Sources, headers, stubs and static libraries: read by compilers, never by an import.
SOURCE_SUFFIXES = (".pyx", ".pxd", ".pxi", ".c", ".cpp", ".h", ".hpp", ".pyi", ".a")
# The packages whose unimported parts the "unimported" rule removes, by layer.
SKLEARN_ROOTS = ("scipy", "sklearn", "joblib")
NUMPY_ROOTS = ("numpy",)
# Data bundled for examples and tutorials, never for predicting.
DATA_DIRS = ("sklearn/datasets/data", "sklearn/datasets/descr", "sklearn/datasets/images")

# Run in the target interpreter with the task root and the layer's site-packages on the path:
# the runtime's ``load`` and ``predict`` (and ``predict_proba``, for classifiers), as in Lambda.
TRACE_SCRIPT = r"""
import sys, json
site, task, model_dir, rows_file, runtime = sys.argv[1:6]
sys.path[:0] = [task, site]
if runtime == "lean":
    from sklambda.runtime.lean_predict import load
else:
    from sklambda.runtime.sklearn_predict import load
predictor = load(model_dir)
with open(rows_file) as handle:
    rows = json.load(handle)
predictor.predict(rows)
try:
    predictor.predict_proba(rows)  # regressors raise: nothing more to trace
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
    interpreter: Path,
    site: Path,
    task_root: Path,
    rows: list[list[object]],
    runtime: str = "sklearn",
) -> set[str]:
    """Files under ``site`` that the packaged runtime imports to load the model and predict.

    Runs ``sklambda.runtime.sklearn_predict`` (``runtime="lean"``: ``lean_predict``) from the
    staged ``task_root``, in the target interpreter, isolated from the host's site-packages: the
    same code path as in Lambda.
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
                runtime,
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
    library, name = ("numpy", "numpy") if runtime == "lean" else ("sklearn", "scikit-learn")
    if not any(path.startswith(library + "/") for path in loaded):
        # An empty trace would let the rules that keep what is imported keep nothing.
        raise RuntimeError(f"tracing the model's imports saw no {name} module under {site}")
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
        "tests",
        "test suites (tests/, test/ packages, conftest.py) except files imported at run time",
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
    # pytest's configuration beside a package (numpy/conftest.py), unless something imported it.
    _remove(
        [c for c in site.rglob("conftest.py") if c.relative_to(site).as_posix() not in keep],
        rule,
    )
    return rule


def drop_installer_files(site: Path) -> RuleResult:
    """What the installer leaves beside the packages: console scripts, its lock file, and the
    ``RECORD`` of each ``*.dist-info`` (the installed files' hashes, for uninstalling: stale once
    slimmed; ``importlib.metadata`` reads ``METADATA``, which stays)."""
    rule = RuleResult(
        "installer", "console scripts (bin/), the installer's lock file and RECORD file lists"
    )
    _remove([p for p in (site / "bin", site / ".lock") if p.exists()], rule)
    _remove(sorted(site.glob("*.dist-info/RECORD")), rule)
    return rule


def drop_sources(site: Path) -> RuleResult:
    rule = RuleResult(
        "sources",
        "Cython/C sources, headers, type stubs and static libraries (.pyx .pxd .c .h .pyi .a …)",
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


def _module_key(rel: str) -> str:
    """``numpy/_core/_simd.cpython-312-x86_64-linux-gnu.so`` → ``numpy/_core/_simd``: an
    extension module's name without its platform tag, the same for a twin's trace."""
    folder, _, name = rel.rpartition("/")
    return f"{folder}/{name.split('.', 1)[0]}"


def _is_extension(path: Path) -> bool:
    return path.is_file() and (path.suffix == ".so" or path.suffix == ".pyd")


def drop_unloaded_extensions(site: Path, loaded: set[str], roots: Iterable[str]) -> RuleResult:
    """Remove compiled extension modules of ``roots`` that a prediction never loads and that no
    shipped Python module of ``roots`` names (numpy's test helpers and ``_simd``, say).

    Vendored shared libraries (``*.libs/``) are never touched: an extension module that was
    loaded may link them. A module some shipped code names stays even unloaded (a lazy import).
    """
    rule = RuleResult(
        "extensions",
        "extension modules a prediction never loads and no shipped module names (test helpers)",
    )
    loaded_keys = {_module_key(f) for f in loaded}
    candidates = [
        p
        for root in roots
        if (site / root).is_dir()
        for p in sorted((site / root).rglob("*"))
        if _is_extension(p) and _module_key(p.relative_to(site).as_posix()) not in loaded_keys
    ]
    if not candidates:
        return rule
    sources = "\n".join(
        p.read_text(errors="replace")
        for root in roots
        if (site / root).is_dir()
        for p in sorted((site / root).rglob("*.py"))
    )
    _remove(
        [
            p
            for p in candidates
            if not re.search(rf"\b{re.escape(p.name.split('.', 1)[0])}\b", sources)
        ],
        rule,
    )
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
# Only for the numpy layer, where the few extension modules are known (see numpy_rules).
LAYER_RULES = ("extensions",)


def numpy_rules(slim_rules: Iterable[str]) -> tuple[str, ...]:
    """The numpy layer's rules for the rules asked for: the same, in the same order, plus
    ``extensions`` after ``unimported``; the trace is the lean runtime's (see :func:`apply_rules`).
    """
    rules: list[str] = []
    for rule in slim_rules:
        rules.append(rule)
        if rule == "unimported":
            rules.append("extensions")
    return tuple(rules)


def apply_rules(
    site: Path,
    rules: Iterable[str],
    loaded: set[str],
    interpreter: Path | None,
    *,
    roots: tuple[str, ...] = SKLEARN_ROOTS,
) -> SlimReport:
    """Run ``rules`` over ``site``. ``loaded`` is the import trace: the rules that keep what a
    prediction imports are skipped without one (keeping everything is safe; guessing is not).
    ``roots``: the packages whose unimported parts are removed (``SKLEARN_ROOTS`` for the
    scikit-learn layer, ``NUMPY_ROOTS`` for the numpy layer)."""
    report = SlimReport(before=package_sizes(site))
    actions: dict[str, Callable[[], RuleResult]] = {
        "installer": lambda: drop_installer_files(site),
        "tests": lambda: drop_tests(site, keep=loaded),
        "tests-all": lambda: drop_tests(site, keep=set()),
        "sources": lambda: drop_sources(site),
        "data": lambda: drop_data(site),
        "strip": lambda: strip_extensions(site),
        "strip-libs": lambda: strip_extensions(site, include_libs=True),
        "unimported": lambda: drop_unimported_packages(site, loaded, roots=roots),
        "extensions": lambda: drop_unloaded_extensions(site, loaded, roots=roots),
    }
    if interpreter is not None:
        actions["sourceless"] = lambda: sourceless(site, interpreter, "/opt/python")
    for rule in rules:
        if rule not in SAFE_RULES + TRAP_RULES + LAYER_RULES:
            raise ValueError(f"unknown slimming rule {rule!r}; rules: {', '.join(SAFE_RULES)}")
        if rule in ("tests", "unimported", "extensions") and not loaded:
            continue
        if rule in actions:
            report.rules.append(actions[rule]())
    report.after = package_sizes(site)
    return report
