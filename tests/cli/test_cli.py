"""The `sklambda` command as a user runs it: exit codes and one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from sklambda.cli import main
from tests.support.cli import run_cli


class Result:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def run_inprocess(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """The same `main()` the console script runs, without paying for a new interpreter."""
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse exits on bad arguments
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)


def _one_line_error(result, *words: str) -> None:  # type: ignore[no-untyped-def]
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def test_train_info_predict(houses_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "houses"
    result = run_cli(
        "train",
        "--db",
        str(houses_db),
        "--table",
        "houses",
        "--target",
        "price",
        "--features",
        "rooms,area,age,district",
        "--out",
        str(out),
        "--estimator",
        "ridge",
    )
    assert result.returncode == 0, result.stderr
    assert "r2" in result.stdout and "rmse" in result.stdout and "houses" in result.stdout

    info = run_cli("info", str(out))
    assert info.returncode == 0
    for word in ("district", "centre", "regression", "sklearn", "r2"):
        assert word in info.stdout

    request = {"instances": [{"rooms": 3, "area": 80, "age": None, "district": "north"}]}
    predicted = run_cli("predict", str(out), "--json", json.dumps(request))
    assert predicted.returncode == 0, predicted.stderr
    body = json.loads(predicted.stdout)
    assert len(body["predictions"]) == 1 and isinstance(body["predictions"][0], float)
    assert body["model"]["name"] == "houses"
    assert predicted.stderr == ""


def test_predict_csv_with_probabilities(houses_classifier: Path, tmp_path: Path) -> None:
    csv = tmp_path / "rows.csv"
    csv.write_text("rooms,area,age,district\n3,80,,north\n6,150,2,centre\n")
    result = run_cli("predict", str(houses_classifier), "--csv", str(csv), "--probabilities")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["predictions"] == ["low", "high"]
    assert [set(p) for p in body["probabilities"]] == [{"high", "low"}] * 2
    assert all(abs(sum(p.values()) - 1) < 1e-9 for p in body["probabilities"])


def test_legacy_request_shape_gets_legacy_keys(houses_classifier: Path) -> None:
    request = {"input": [[3, 80, 10, "north"]], "return_probabilities": True}
    result = run_cli("predict", str(houses_classifier), "--json", json.dumps(request))
    body = json.loads(result.stdout)
    assert set(body) == {"prediction", "probabilities"}  # exactly scikit-learn-lambda's fields
    assert body["prediction"] == ["low"]
    assert set(body["probabilities"][0]) == {"high", "low"}


def test_predict_csv_out_writes_rows_with_predictions(
    houses_classifier: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv

    import sklambda

    given = tmp_path / "rows.csv"
    given.write_text("id,rooms,area,age,district,band\n7,3,80,,north,low\n8,6,150,2,centre,high\n")
    _one_line_error(
        run_inprocess(capsys, "predict", str(houses_classifier), "--csv", str(given)),
        'column "id" is not a feature',
        "--ignore-extra",
    )
    out = tmp_path / "out" / "scored.csv"
    result = run_inprocess(
        capsys,
        "predict",
        str(houses_classifier),
        "--csv",
        str(given),
        "--ignore-extra",
        "--probabilities",
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    with out.open(newline="") as handle:
        written = list(csv.DictReader(handle))
    model = sklambda.load(houses_classifier)
    rows = [
        {"rooms": 3.0, "area": 80.0, "age": None, "district": "north"},
        {"rooms": 6.0, "area": 150.0, "age": 2.0, "district": "centre"},
    ]
    assert [r["id"] for r in written] == ["7", "8"] and [r["band"] for r in written] == [
        "low",
        "high",
    ]
    assert [r["prediction"] for r in written] == model.predict(rows)
    proba = model.predict_proba(rows)
    for record, expected in zip(written, proba, strict=True):
        got = [float(record[f"probability_{c}"]) for c in model.classes]
        assert got == pytest.approx(expected, abs=1e-12)


def test_predict_json_from_a_file_and_from_stdin(
    houses_classifier: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    request = {"instances": [{"rooms": 3, "area": 80, "age": None, "district": "north"}]}
    (tmp_path / "request.json").write_text(json.dumps(request))
    from_file = run_inprocess(
        capsys, "predict", str(houses_classifier), "--json", f"@{tmp_path / 'request.json'}"
    )
    assert from_file.returncode == 0, from_file.stderr
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(request)))
    from_stdin = run_inprocess(capsys, "predict", str(houses_classifier), "--json", "-")
    assert from_stdin.returncode == 0, from_stdin.stderr
    assert json.loads(from_file.stdout) == json.loads(from_stdin.stdout)
    assert json.loads(from_file.stdout)["predictions"] in (["low"], ["high"])
    _one_line_error(
        run_inprocess(capsys, "predict", str(houses_classifier), "--json", "@nope.json"),
        "request file not found: nope.json",
    )


def test_predict_prints_range_warnings_on_stderr(
    houses_classifier: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sklambda

    rooms = next(f for f in sklambda.load(houses_classifier).features if f["name"] == "rooms")
    request = {
        "instances": [
            {"rooms": 3, "area": 80, "age": 1, "district": "north"},
            {"rooms": rooms["max"] + 100, "area": 80, "age": 1, "district": "north"},
        ]
    }
    result = run_inprocess(capsys, "predict", str(houses_classifier), "--json", json.dumps(request))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["warnings"] == [
        {
            "row": 1,
            "feature": "rooms",
            "kind": "out_of_range",
            "value": rooms["max"] + 100,
            "expected": f"{rooms['min']} … {rooms['max']}",
        }
    ]
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and "row 1: rooms" in lines[0] and "outside the training range" in lines[0]
    )


@pytest.mark.parametrize(("status", "code"), [(200, 0), (202, 0), (400, 2), (413, 2), (500, 1)])
def test_invoke_exit_code_follows_the_status(status: int, code: int) -> None:
    from sklambda.cli.local import exit_code

    assert exit_code(status) == code


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (
            ["train", "--db", "nope.db", "--table", "t", "--target", "y", "--out", "o"],
            ["database file not found: nope.db"],
        ),
        (
            ["train", "--db", "{db}", "--table", "nope", "--target", "y", "--out", "o"],
            ['table "nope" not found', "houses"],
        ),
        (
            ["train", "--db", "{db}", "--table", "empty_table", "--target", "a", "--out", "o"],
            ["returned no rows"],
        ),
        (
            ["train", "--db", "{db}", "--table", "houses", "--target", "nope", "--out", "o"],
            ['target column "nope" not found'],
        ),
        (
            ["train", "--db", "{db}", "--table", "houses", "--target", "age", "--out", "o"],
            ["missing value"],
        ),
        (
            [
                "train",
                "--db",
                "{db}",
                "--table",
                "houses",
                "--target",
                "band",
                "--task",
                "regression",
                "--out",
                "o",
            ],
            ["is not numeric"],
        ),
        (
            [
                "train",
                "--db",
                "{db}",
                "--table",
                "houses",
                "--target",
                "price",
                "--test-size",
                "2",
                "--out",
                "o",
            ],
            ["--test-size", "between 0 and 1"],
        ),
        (
            ["train", "--db", "{db}", "--target", "price", "--out", "o"],
            ["one of the arguments --table --query is required"],
        ),
        (
            [
                "train",
                "--db",
                "{db}",
                "--table",
                "houses",
                "--target",
                "price",
                "--estimator",
                "bogus",
                "--out",
                "o",
            ],
            ["invalid choice: 'bogus'", "random-forest"],
        ),
        (["nonsense"], ["invalid choice"]),
        (
            ["import", "--model", "{tmp}/m.sav", "--features", "a", "--out", "{tmp}/o"],
            ["m.sav is a pickle", "--trust-pickle"],
        ),
        (["predict", "{tmp}/nothing", "--json", "{{}}"], ["bundle not found"]),
    ],
)
def test_errors_are_one_line_and_exit_2(
    args: list[str],
    words: list[str],
    houses_db: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "m.sav").write_bytes(b"not really a pickle")
    monkeypatch.chdir(tmp_path)
    filled = [a.format(db=houses_db, tmp=tmp_path) for a in args]
    result = run_inprocess(capsys, *filled)
    _one_line_error(result, *words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("request_", "words"),
    [
        ('{"instances": [{"rooms": 3}]}', ["missing_feature", "instances[0].area"]),
        ('{"instances": [[1, 2]]}', ["wrong_length", "expected 4 values"]),
        ('{"instances": [[NaN, 2, 3, "north"]]}', ["non_finite"]),
        ("{not json", ["invalid_json"]),
        ('{"instances": [[1, 2, 3, "mars"]]}', ["unknown_category", "mars"]),
    ],
)
def test_invalid_predict_requests(
    houses_classifier: Path, request_: str, words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    result = run_inprocess(capsys, "predict", str(houses_classifier), "--json", request_)
    _one_line_error(result, *words)


def test_damaged_and_newer_bundles(
    diabetes_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damaged = Path(shutil.copytree(diabetes_bundle, tmp_path / "d"))
    (damaged / "sample.json").write_text("{}")
    result = run_inprocess(capsys, "info", str(damaged))
    _one_line_error(result, "sample.json does not match its sha256")

    newer = Path(shutil.copytree(diabetes_bundle, tmp_path / "n"))
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["format_version"] = 2
    (newer / "manifest.json").write_text(json.dumps(manifest))
    _one_line_error(run_inprocess(capsys, "predict", str(newer), "--json", "{}"), "newer sklambda")


def test_csv_with_text_in_a_number_column(
    diabetes_bundle: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n59,two,32,101,157,93,38,4,4.8,87\n")
    result = run_inprocess(capsys, "predict", str(diabetes_bundle), "--csv", str(csv))
    _one_line_error(result, 'line 2, column "sex": "two" is not a number')


def test_import_cli_with_trust(tmp_path: Path) -> None:
    import pickle

    import numpy as np
    from sklearn.linear_model import LinearRegression
    from sklearn.preprocessing import StandardScaler

    X = np.random.default_rng(0).random((30, 2))
    scaler = StandardScaler().fit(X)
    model = LinearRegression().fit(scaler.transform(X), X @ [1.0, 2.0])
    (tmp_path / "scaler.pkl").write_bytes(pickle.dumps(scaler))
    (tmp_path / "model.sav").write_bytes(pickle.dumps(model))
    result = run_cli(
        "import",
        "--model",
        str(tmp_path / "model.sav"),
        "--scaler",
        str(tmp_path / "scaler.pkl"),
        "--features",
        "a,b",
        "--out",
        str(tmp_path / "b"),
        "--trust-pickle",
    )
    assert result.returncode == 0, result.stderr
    predicted = run_cli("predict", str(tmp_path / "b"), "--json", '{"a": 0.5, "b": 0.25}')
    assert json.loads(predicted.stdout)["predictions"] == pytest.approx([1.0])


def test_one_subprocess_error_really_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_cli("predict", str(tmp_path / "nothing"), "--json", "{}")
    _one_line_error(result, "bundle not found")


def test_help_lists_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("train", "import", "predict", "info"):
        assert command in result.stdout


def _all_parsers() -> list[tuple[str, Any]]:
    import argparse

    from sklambda.cli import build_parser

    found: list[tuple[str, Any]] = []

    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    found.append((f"{path} {name}".strip(), sub))
                    walk(sub, f"{path} {name}")

    walk(build_parser()[0], "")
    return found


def test_every_option_has_help_and_shows_its_default() -> None:
    import argparse

    parsers = _all_parsers()
    assert len(parsers) >= 20
    for command, parser in parsers:
        formatter = parser._get_formatter()
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            name = "/".join(action.option_strings) or action.dest
            assert action.help, f"sklambda {command} {name} has no help text"
            default = action.default
            if default not in (None, False) and not isinstance(default, list):
                shown = formatter._get_help_string(action) or ""
                assert "default" in shown, f"sklambda {command} {name}: default {default!r} unsaid"


def test_every_command_help_ends_with_an_example() -> None:
    for command, parser in _all_parsers():
        tail = parser.format_help().rstrip().splitlines()[-1].strip()
        assert tail.startswith(("sklambda ", 'echo "$BOT_TOKEN" | sklambda ')), (command, tail)
        assert f"sklambda {command.split()[0]}" in tail, (command, tail)


def test_train_says_what_it_decided(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "t.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE t (id TEXT, x TEXT, empty TEXT, y TEXT)")
        conn.executemany(
            "INSERT INTO t VALUES (?, ?, ?, ?)",
            [(f"row-{i}", str(i % 7), "", f"{i * 1.5 + (i % 7)}") for i in range(40)],
        )
    result = run_cli(
        "train", "--db", str(db), "--table", "t", "--target", "y", "--out", str(tmp_path / "m")
    )
    assert result.returncode == 0, result.stderr
    for said in (
        'task: regression ("y" holds numbers with fractions)',
        "x: read as numbers",
        "empty: dropped (every row is NULL or empty)",
        "id: left out (looks like an ID or a name",
    ):
        assert said in result.stdout, result.stdout
    info = run_cli("info", str(tmp_path / "m"))
    assert info.returncode == 0 and "x" in info.stdout


def test_unknown_category_mode_is_on_the_card(houses_db: Path, tmp_path: Path) -> None:
    args = ["--db", str(houses_db), "--table", "houses", "--target", "price"]
    common = [*args, "--features", "rooms,district", "--unknown-category", "ignore"]
    assert run_cli("train", *common, "--out", str(tmp_path / "m")).returncode == 0
    info = run_cli("info", str(tmp_path / "m"))
    assert "unknown categories" in info.stdout and "ignore" in info.stdout
    predicted = run_cli("predict", str(tmp_path / "m"), "--json", '{"rooms": 3, "district": "x"}')
    assert predicted.returncode == 0, predicted.stderr


def test_csv_dates_reach_the_contract_as_written(tmp_path: Path) -> None:
    from sklambda.cli.models import read_csv

    manifest = {
        "features": [
            {"name": "sold", "type": "number", "date": "epoch_days"},
            {"name": "km", "type": "number"},
        ]
    }
    (tmp_path / "rows.csv").write_text("sold,km\n1982-01-01,5\n4383,6\n")
    request = read_csv(tmp_path / "rows.csv", manifest, probabilities=False).request
    assert request["instances"] == [{"sold": "1982-01-01", "km": 5.0}, {"sold": 4383.0, "km": 6.0}]


def test_invoke_event_nested_deep_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "deep.json"
    event.write_text("[" * 5000 + "]" * 5000)
    result = run_inprocess(capsys, "invoke", str(tmp_path), "--event", str(event))
    _one_line_error(result, "deep.json is not valid JSON", "5000 deep")
