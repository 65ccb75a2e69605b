"""Training: the pipeline sklambda fits, its metrics, determinism, and the errors users hit."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sklambda
from sklambda.bundle.format import read_sample
from sklambda.errors import DataError, TrainError
from sklambda.training import ESTIMATORS, build_pipeline, infer_task, prepare, split


def test_bundle_predicts_what_the_same_pipeline_fitted_by_hand_predicts(
    diabetes_db: Path, diabetes_bundle: Path
) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    frame = sklambda.data.load_frame(str(diabetes_db), table="patients")
    X, y = frame.drop(columns="progression").astype(float), frame["progression"].astype(float)
    X_train, X_test, y_train, _ = train_test_split(X, y, test_size=0.2, random_state=0)
    by_hand = Pipeline([("scaler", StandardScaler()), ("model", LinearRegression())])
    by_hand.fit(X_train, y_train)

    model = sklambda.load(diabetes_bundle)
    ours = model.predict(X_test)
    np.testing.assert_allclose(ours, by_hand.predict(X_test), rtol=1e-12, atol=0)
    assert model.manifest["metrics"]["n_test"] == len(X_test)


def test_bundle_reloads_in_a_fresh_process(diabetes_bundle: Path) -> None:
    model = sklambda.load(diabetes_bundle)
    sample = read_sample(diabetes_bundle)
    here = model.predict(sample["rows"])
    code = (
        "import json, sys, sklambda; m = sklambda.load(sys.argv[1]); "
        "rows = json.load(open(sys.argv[1] + '/sample.json'))['rows']; "
        "print(json.dumps(m.predict(rows)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(diabetes_bundle)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == here == sample["predictions"]
    assert out.stderr == ""


def test_metrics_are_the_regression_set(diabetes_bundle: Path) -> None:
    metrics = sklambda.load(diabetes_bundle).manifest["metrics"]
    assert set(metrics) == {"r2", "mae", "rmse", "n_train", "n_test"}
    assert 0.2 < metrics["r2"] < 0.7  # a linear model on diabetes explains some, not all
    assert metrics["rmse"] >= metrics["mae"] > 0


def test_same_seed_same_model_other_seed_other_split(houses_db: Path, tmp_path: Path) -> None:
    common = {
        "table": "houses",
        "target": "price",
        "features": ["rooms", "area", "age", "district"],
    }
    a = sklambda.train(str(houses_db), out=tmp_path / "a", **common)
    b = sklambda.train(str(houses_db), out=tmp_path / "b", **common)
    c = sklambda.train(str(houses_db), out=tmp_path / "c", seed=1, **common)
    assert a.manifest["version"] == b.manifest["version"]
    assert a.metrics == b.metrics
    assert a.metrics != c.metrics


@pytest.mark.parametrize("estimator", ESTIMATORS)
def test_every_estimator_round_trips_through_skops(
    estimator: str, houses_db: Path, houses_frame: pd.DataFrame, tmp_path: Path
) -> None:
    task = "regression" if estimator in {"lasso", "elastic-net"} else "classification"
    target = "price" if task == "regression" else "band"
    result = sklambda.train(
        str(houses_db),
        table="houses",
        target=target,
        features=["rooms", "area", "age", "district"],
        estimator=estimator,
        task=task,
        out=tmp_path / estimator,
    )
    assert (tmp_path / estimator / "model.skops").is_file()
    model = sklambda.load(tmp_path / estimator)
    sample = read_sample(tmp_path / estimator)
    assert model.predict(sample["rows"]) == sample["predictions"]
    if result.manifest["probabilities"]:
        np.testing.assert_allclose(model.predict_proba(sample["rows"]), sample["probabilities"])
    # the whole table, with its missing values and text, goes through the loaded model
    X = houses_frame[["rooms", "area", "age", "district"]]
    assert len(model.predict(X)) == len(X)


@pytest.mark.parametrize(
    "estimator", ["linear", "ridge", "random-forest", "gradient-boosting", "mlp"]
)
def test_regression_estimators_round_trip(
    estimator: str, diabetes_db: Path, tmp_path: Path
) -> None:
    sklambda.train(
        str(diabetes_db),
        table="patients",
        target="progression",
        estimator=estimator,
        out=tmp_path / "m",
    )
    model = sklambda.load(tmp_path / "m")
    sample = read_sample(tmp_path / "m")
    np.testing.assert_allclose(model.predict(sample["rows"]), sample["predictions"], rtol=1e-12)


def test_mixed_table_gets_imputers_and_one_hot(houses_frame: pd.DataFrame) -> None:
    X, y, task, specs = prepare(houses_frame, "price", ["rooms", "area", "age", "district"], "auto")
    assert task == "regression"
    kinds = {s["name"]: (s["type"], s["nullable"]) for s in specs}
    assert kinds == {
        "rooms": ("number", False),
        "area": ("number", False),
        "age": ("number", True),
        "district": ("string", True),
    }
    assert next(s for s in specs if s["name"] == "district")["categories"] == [
        "centre",
        "north",
        "south",
    ]
    pipeline = build_pipeline(specs, task)
    pre = pipeline.named_steps["preprocess"]
    assert [name for name, _, _ in pre.transformers] == ["num", "num_missing", "cat"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name or dtype warnings on our own data
        pipeline.fit(X, y)
        pipeline.predict(X)


def test_classic_pipeline_for_clean_numeric_data(diabetes_db: Path) -> None:
    frame = sklambda.data.load_frame(str(diabetes_db), table="patients")
    _, _, task, specs = prepare(frame, "progression", None, "auto")
    steps = [type(s).__name__ for _, s in build_pipeline(specs, task).steps]
    assert steps == ["StandardScaler", "LinearRegression"]


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([0.5, 1.25, 3.0] * 10, "regression"),
        (list(range(30)), "regression"),
        ([0, 1, 2] * 10, "classification"),
        (["a", "b"] * 15, "classification"),
        ([True, False] * 15, "classification"),
    ],
)
def test_task_inference(values: list[object], task: str) -> None:
    assert infer_task(pd.Series(values)) == task


def test_classification_split_is_stratified(houses_frame: pd.DataFrame) -> None:
    X, y, task, _ = prepare(houses_frame, "band", ["rooms", "area"], "auto")
    _, _, y_train, y_test = split(X, y, task, 0.25, 0)
    assert abs(y_train.eq("high").mean() - y_test.eq("high").mean()) < 0.03


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"target": "nope"}, TrainError, 'target column "nope" not found; columns: rooms'),
        ({"target": "price", "features": ["rooms", "zz"]}, TrainError, 'feature column "zz"'),
        ({"target": "price", "features": ["price"]}, TrainError, "cannot also be a feature"),
        ({"target": "band", "task": "regression"}, TrainError, "is not numeric"),
        (
            {"target": "price", "task": "classification", "estimator": "lasso"},
            TrainError,
            "regression only",
        ),
        ({"target": "price", "test_size": 1.5}, TrainError, "between 0 and 1"),
    ],
)
def test_training_errors_name_the_problem(
    houses_db: Path, tmp_path: Path, kwargs: dict, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        sklambda.train(str(houses_db), table="houses", out=tmp_path / "x", **kwargs)
    assert not (tmp_path / "x").exists()


def test_target_with_missing_values_is_refused(houses_db: Path, tmp_path: Path) -> None:
    with pytest.raises(TrainError, match=r'"age" has \d+ missing value\(s\).*IS NOT NULL'):
        sklambda.train(str(houses_db), table="houses", target="age", out=tmp_path / "x")


def test_single_class_target_is_refused(tmp_path: Path) -> None:
    frame = pd.DataFrame({"x": range(20), "y": ["a"] * 20})
    with pytest.raises(TrainError, match="single value"):
        sklambda.train(frame=frame, target="y", task="classification", out=tmp_path / "x")


def test_id_like_text_column_is_left_out_unless_named(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"id": [f"u{i}" for i in range(1200)], "x": rng.normal(size=1200), "y": np.arange(1200.0)}
    )
    result = sklambda.train(frame=frame, target="y", out=tmp_path / "x")
    assert [f["name"] for f in result.manifest["features"]] == ["x"]
    assert any(d.startswith("id: left out (looks like an ID") for d in result.decisions)
    # naming it overrides the choice; the cap on categories still speaks
    with pytest.raises(DataError, match='"id" has 1200 distinct text values'):
        sklambda.train(frame=frame, target="y", features=["id", "x"], out=tmp_path / "y")


def test_date_columns_become_epoch_days(tmp_path: Path) -> None:
    days = pd.date_range("2026-01-01", periods=30)
    frame = pd.DataFrame({"d": days, "y": np.arange(30.0) / 3})
    result = sklambda.train(frame=frame, target="y", out=tmp_path / "x")
    (spec,) = result.manifest["features"]
    assert spec["date"] == "epoch_days" and spec["type"] == "number"
    assert spec["min"] == (days[0] - pd.Timestamp("1970-01-01")).days
    model = sklambda.load(tmp_path / "x")
    by_text = model.predict([{"d": "2026-01-05"}, {"d": "2026-01-05 00:00:00"}])
    assert by_text[0] == by_text[1] == model.predict([{"d": spec["min"] + 4}])[0]
    assert model.predict(frame.head(3)) == model.predict([{"d": str(t)} for t in days[:3]])
    from sklambda.runtime.card import openapi

    schemas = json.dumps(openapi(model.manifest))
    assert '"type": ["string", "number"]' in schemas and "1982-01-01" in schemas


# -- the first hour with one's own data: a CSV imported with the sqlite3 shell ------------------


def _cars_csv(path: Path, n: int = 120) -> Path:
    """A cars-like CSV: numbers, '?' for a missing one, a name per row, empty and constant
    columns, a date, and a numeric target with about one distinct value per row."""
    rng = np.random.default_rng(11)
    lines = ["mpg,cylinders,horsepower,weight,origin,name,notes,fleet,sold"]
    for i in range(n):
        cylinders = int(rng.choice([4, 6, 8]))
        horsepower = float(rng.integers(60, 200))
        weight = int(rng.integers(1800, 4500))
        origin = str(rng.choice(["usa", "europe", "japan"]))
        mpg = round(50 - 0.1 * horsepower - 0.004 * weight + rng.normal(0, 1), 1)
        hp = "?" if i % 17 == 0 else f"{horsepower:g}"
        sold = f"19{70 + i % 12}-{1 + i % 12:02d}-01" + (" 00:00:00" if i % 2 else "")
        lines.append(f"{mpg},{cylinders},{hp},{weight},{origin},car {i},,acme,{sold}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _sqlite_shell_import(csv_path: Path, db: Path, table: str) -> None:
    """What a new user does: the sqlite3 shell's .import --csv (every column TEXT)."""
    import shutil
    import sqlite3

    shell = shutil.which("sqlite3")
    if shell is not None:
        subprocess.run(
            [shell, str(db), f".import --csv {csv_path} {table}"], check=True, capture_output=True
        )
        return
    # No shell on this machine: the same TEXT table through Python's sqlite3.
    import csv

    with csv_path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    with sqlite3.connect(db) as conn:
        conn.execute(f"CREATE TABLE {table} ({', '.join(f'{h} TEXT' for h in header)})")
        conn.executemany(f"INSERT INTO {table} VALUES ({','.join('?' * len(header))})", rows)


@pytest.fixture(scope="module")
def cars_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cars")
    db = folder / "cars.db"
    _sqlite_shell_import(_cars_csv(folder / "cars.csv"), db, "cars")
    return db


def test_the_sqlite_shell_import_stores_text(cars_db: Path) -> None:
    frame = sklambda.data.load_frame(str(cars_db), table="cars")
    assert frame["mpg"].map(type).eq(str).all()  # the trap: numbers as TEXT
    assert (frame["notes"] == "").all()


def test_text_numbers_dates_ids_and_empty_columns_are_read_and_said(
    cars_db: Path, tmp_path: Path
) -> None:
    result = sklambda.train(str(cars_db), table="cars", target="mpg", out=tmp_path / "cars")
    manifest = result.manifest
    assert manifest["task"] == "regression"
    kinds = {f["name"]: f["type"] for f in manifest["features"]}
    assert kinds == {
        "cylinders": "number",
        "horsepower": "number",
        "weight": "number",
        "origin": "string",
        "sold": "number",
    }
    specs = {f["name"]: f for f in manifest["features"]}
    assert specs["horsepower"]["nullable"] and not specs["weight"]["nullable"]
    assert specs["sold"]["date"] == "epoch_days"
    said = "\n".join(result.decisions)
    assert said.startswith("task: regression (")
    for line in (
        "mpg: read as numbers",
        "horsepower: read as numbers (its text values all parse as numbers; 8 '?' read as",
        "notes: dropped (every row is NULL or empty)",
        "fleet: dropped (one value ('acme') in every row)",
        "name: left out (looks like an ID or a name: 120 distinct values in 120 rows",
        "sold: read as dates",
    ):
        assert line in said
    recorded = {c["column"]: c["action"] for c in manifest["training"]["columns"]}
    assert recorded["notes"] == "dropped" and recorded["name"] == "left_out"
    assert manifest["training"]["task_reason"].startswith('"mpg" holds numbers with fractions')
    assert result.metrics["r2"] > 0.8  # a real model, not 130 one-hot classes
    model = sklambda.load(tmp_path / "cars")
    row = {"cylinders": 4, "horsepower": 90, "weight": 2500, "origin": "japan"}
    a, b, c = model.predict(
        [
            {**row, "sold": "1982-01-01"},
            {**row, "sold": "1982-01-01 00:00:00"},
            {**row, "sold": 4383},
        ]
    )
    assert a == b == c


def test_named_features_override_every_choice(cars_db: Path, tmp_path: Path) -> None:
    result = sklambda.train(
        str(cars_db),
        table="cars",
        target="mpg",
        features=["weight", "fleet", "name"],
        out=tmp_path / "named",
    )
    assert [f["name"] for f in result.manifest["features"]] == ["weight", "fleet", "name"]
    with pytest.raises(
        DataError, match='column "notes" holds no value.*leave it out of --features'
    ):
        sklambda.train(
            str(cars_db), table="cars", target="mpg", features=["notes"], out=tmp_path / "x"
        )


def test_numeric_target_with_too_many_classes_is_refused_with_the_flag(
    cars_db: Path, tmp_path: Path
) -> None:
    with pytest.raises(TrainError, match=r"too many classes.*task='regression'") as caught:
        sklambda.train(
            str(cars_db), table="cars", target="mpg", task="classification", out=tmp_path / "x"
        )
    assert "--task regression" in caught.value.for_cli()
    assert not (tmp_path / "x").exists()


def test_missing_target_hint_names_the_table(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE readings (x TEXT, y TEXT)")
        conn.executemany(
            "INSERT INTO readings VALUES (?, ?)",
            [(str(i), "" if i == 3 else str(i)) for i in range(20)],
        )
    with pytest.raises(TrainError) as caught:
        sklambda.train(str(db), table="readings", target="y", out=tmp_path / "m")
    assert "--query 'SELECT * FROM readings WHERE length(trim(y)) > 0'" in caught.value.for_cli()
    assert "<table>" not in str(caught.value)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ([0.5, 1.25, 3.0] * 10, "numbers with fractions"),
        (list(range(30)), "30 distinct whole numbers (more than 20"),
        ([0, 1, 2] * 10, "3 distinct whole numbers (at most 20"),
        (["a", "b"] * 15, "text with 2 distinct values"),
        (list(range(10)) * 2, "10 distinct whole numbers in 20 rows (more than 10% of the rows"),
    ],
)
def test_auto_task_says_why(values: list[object], reason: str) -> None:
    from sklambda.training import choose_task

    assert reason in choose_task(pd.Series(values, name="t"))[1]


# -- categories training never saw ------------------------------------------------------------


def _with_rare_districts(frame: pd.DataFrame) -> pd.DataFrame:
    rare = ["harbour", "airport", "hills"]
    district = frame["district"].copy()
    district.iloc[[5, 50, 100]] = rare  # one row each: infrequent
    return frame.assign(district=district)


def test_unknown_categories_are_refused_by_default(
    houses_frame: pd.DataFrame, tmp_path: Path
) -> None:
    from sklambda.runtime.card import model_card
    from sklambda.runtime.contract import RequestError

    features = ["rooms", "area", "age", "district"]
    sklambda.train(frame=houses_frame, target="price", features=features, out=tmp_path / "m")
    model = sklambda.load(tmp_path / "m")
    with pytest.raises(RequestError, match='"mars" is not a known value'):
        model.predict([{"rooms": 3, "area": 80, "age": 10, "district": "mars"}])
    assert model_card(model.manifest, "sklearn")["unknown_categories"]["mode"] == "error"


def test_ignore_groups_rare_categories_and_takes_unseen_ones(
    houses_frame: pd.DataFrame, tmp_path: Path
) -> None:
    from sklambda.lean.compiler import check_equivalence, compile_estimator
    from sklambda.runtime.card import model_card, openapi

    frame = _with_rare_districts(houses_frame)
    features = ["rooms", "area", "age", "district"]
    result = sklambda.train(
        frame=frame,
        target="price",
        features=features,
        unknown_category="ignore",
        out=tmp_path / "m",
    )
    assert result.manifest["training"]["unknown_category"] == "ignore"
    model = sklambda.load(tmp_path / "m")
    onehot = model.estimator.named_steps["preprocess"].named_transformers_["cat"]["onehot"]
    grouped = set(onehot.infrequent_categories_[0])  # the training split's rare ones
    assert "hills" in grouped and grouped <= {"airport", "harbour", "hills"}
    row = {"rooms": 3, "area": 80, "age": 10}
    unseen, rare, north = model.predict(
        [{**row, "district": "mars"}, {**row, "district": "hills"}, {**row, "district": "north"}]
    )
    assert unseen == rare != north  # unseen ones join the rare ones' group
    card = model_card(model.manifest, "sklearn")
    assert card["unknown_categories"]["mode"] == "ignore"
    district = openapi(model.manifest)["components"]["schemas"]
    assert "mars" not in json.dumps(district) and '"enum"' not in json.dumps(
        next(f for f in card["features"] if f["name"] == "district")
    )
    # the lean runtime encodes them as scikit-learn does, rare and unseen alike
    lean = compile_estimator(model.estimator, features)
    query = frame[features].head(40).copy()
    query["district"] = (["mars", "hills", "harbour", "north", None] * 8)[:40]
    query["age"] = query["age"].fillna(30.0)
    report = check_equivalence(model.estimator, lean, query)
    assert report.ok, report.detail


def test_all_null_columns_are_dropped_not_a_traceback(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "x": np.arange(30.0),
            "nothing": [None] * 30,
            "nan": [np.nan] * 30,
            "y": np.arange(30.0) * 2.5,
        }
    )
    result = sklambda.train(frame=frame, target="y", out=tmp_path / "m")
    assert [f["name"] for f in result.manifest["features"]] == ["x"]
    assert "nothing: dropped (every row is NULL or empty)" in result.decisions
    assert "nan: dropped (every row is NULL or empty)" in result.decisions


def test_penguins_like_csv_classifies_with_na_read_as_missing(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    lines = ["species,island,bill_length_mm,body_mass_g,sex,year"]
    for i in range(90):
        species = ["Adelie", "Gentoo", "Chinstrap"][i % 3]
        bill = 38 + 8 * (i % 3) + rng.normal(0, 1)
        bill_text = "NA" if i % 23 == 0 else f"{bill:.1f}"
        mass = 3500 + 900 * (i % 3 == 1) + int(rng.integers(-200, 200))
        sex = "" if i % 31 == 0 else ["male", "female"][i % 2]
        lines.append(
            f"{species},{['Biscoe', 'Dream', 'Torgersen'][i % 3]},{bill_text},{mass},{sex},2008"
        )
    (tmp_path / "penguins.csv").write_text("\n".join(lines) + "\n")
    _sqlite_shell_import(tmp_path / "penguins.csv", tmp_path / "p.db", "penguins")
    result = sklambda.train(
        str(tmp_path / "p.db"), table="penguins", target="species", out=tmp_path / "m"
    )
    assert result.manifest["task"] == "classification"
    assert result.decisions[0].startswith('task: classification ("species" is text with 3')
    specs = {f["name"]: f for f in result.manifest["features"]}
    assert specs["bill_length_mm"]["type"] == "number" and specs["bill_length_mm"]["nullable"]
    assert specs["sex"]["categories"] == ["female", "male"] and specs["sex"]["nullable"]
    assert "year" not in specs  # one value in every row
    assert "bill_length_mm: read as numbers (its text values all parse as numbers; 4 'NA'" in (
        "\n".join(result.decisions)
    )
    assert result.metrics["accuracy"] > 0.9
