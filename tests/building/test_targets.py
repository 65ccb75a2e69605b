"""--python auto: the newest Lambda Python that can run the model as trained, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from sklambda.building.targets import (
    PYTHONS,
    Target,
    has_wheels,
    pick_target,
    python_for,
    target,
)
from sklambda.errors import SklambdaError
from sklambda.local.interpreters import find_interpreter


def test_auto_skips_pythons_without_wheels_of_the_trained_versions(diabetes_bundle: Path) -> None:
    from sklambda.bundle.format import read_manifest

    trained = read_manifest(diabetes_bundle)["versions"]
    pins = [
        f"scikit-learn=={trained['sklearn']}",
        f"numpy=={trained['numpy']}",
        f"scipy=={trained['scipy']}",
    ]
    able = [p for p in PYTHONS if has_wheels(pins, Target(p, "x86_64"))]
    assert able, "no Lambda Python has wheels of the versions this environment trains with"
    chosen = pick_target(None, "x86_64", diabetes_bundle)
    assert chosen.python in able
    here = [p for p in able if find_interpreter(p) is not None]
    assert chosen.python == max(here or able)
    assert chosen.reason.startswith(f"python{chosen.python}: the newest Lambda Python with wheels")
    assert f"scikit-learn {trained['sklearn']}" in chosen.reason
    for lacking in sorted(set(PYTHONS) - set(able)):
        assert f"python{lacking}" in chosen.reason  # said out loud: which had no wheels
    assert chosen.to_dict()["chosen"] == chosen.reason
    assert pick_target("auto", "x86_64", diabetes_bundle) == chosen


def test_scikit_learn_1_9_is_not_built_for_python_3_11_by_default(diabetes_bundle: Path) -> None:
    """The trap of the project's own 3.11 environment: scikit-learn 1.9 has no wheels for
    Amazon Linux 2, so the host's version must not be the default."""
    from sklambda.bundle.format import read_manifest

    if not read_manifest(diabetes_bundle)["versions"]["sklearn"].startswith("1.9"):
        pytest.fail("this environment is expected to train with scikit-learn 1.9")
    chosen = pick_target(None, "x86_64", diabetes_bundle)
    assert chosen.python != "3.11"
    assert "python3.11 has no such wheels" in chosen.reason or "python3.11" in chosen.reason


def test_versions_from_an_older_release_can_still_choose_the_newest() -> None:
    pins = ["scikit-learn==1.5.2", "numpy==2.1.3", "scipy==1.14.1"]
    chosen = python_for(pins, "arm64")
    assert chosen.arch == "arm64"
    assert has_wheels(pins, chosen)
    assert chosen.reason.startswith(f"python{chosen.python}: the newest Lambda Python with wheels")


def test_lean_only_and_explicit_versions(diabetes_bundle: Path) -> None:
    lean = pick_target(None, "x86_64", diabetes_bundle, runtime="lean")
    assert "lean runtime runs on every Lambda Python" in lean.reason
    explicit = pick_target("3.12", "x86_64", diabetes_bundle)
    assert explicit == Target("3.12", "x86_64") and explicit.reason == ""


def test_errors_speak_the_callers_language() -> None:
    with pytest.raises(SklambdaError) as caught:
        target("3.10")
    assert "python='auto'" in str(caught.value)
    assert "--python auto" in caught.value.for_cli()
    with pytest.raises(SklambdaError, match="unknown architecture"):
        pick_target(None, "ppc", "nowhere")
