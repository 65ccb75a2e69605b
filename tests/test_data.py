"""Loading training data from SQL: SQLite paths, SQLAlchemy URLs, tables and queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from sklambda.data import load_frame, mask_url
from sklambda.errors import DataError


def test_table_from_sqlite_path(houses_db: Path) -> None:
    frame = load_frame(str(houses_db), table="houses")
    assert len(frame) == 240
    assert list(frame.columns) == ["rooms", "area", "age", "district", "price", "band"]


def test_query_from_sqlalchemy_url(houses_db: Path) -> None:
    frame = load_frame(
        f"sqlite:///{houses_db}", query="SELECT rooms, price FROM houses WHERE rooms >= 3"
    )
    assert list(frame.columns) == ["rooms", "price"]
    assert (frame["rooms"] >= 3).all()
    assert 0 < len(frame) < 240


def test_sqlite_file_is_opened_read_only(houses_db: Path) -> None:
    with pytest.raises(DataError, match="readonly|read-only"):
        load_frame(str(houses_db), query="DELETE FROM houses RETURNING rooms")
    assert len(load_frame(str(houses_db), table="houses")) == 240


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="database file not found: .*nope.db"):
        load_frame(str(tmp_path / "nope.db"), table="t")


def test_missing_table_lists_the_tables_there(houses_db: Path) -> None:
    with pytest.raises(
        DataError, match='table "housez" not found.*tables there: empty_table, houses'
    ):
        load_frame(str(houses_db), table="housez")


def test_empty_table_is_refused(houses_db: Path) -> None:
    with pytest.raises(DataError, match='table "empty_table" returned no rows'):
        load_frame(str(houses_db), table="empty_table")


def test_bad_query_gives_the_database_message(houses_db: Path) -> None:
    with pytest.raises(DataError, match="no such column: nope"):
        load_frame(str(houses_db), query="SELECT nope FROM houses")


def test_exactly_one_of_table_and_query(houses_db: Path) -> None:
    with pytest.raises(DataError, match="exactly one"):
        load_frame(str(houses_db), table="houses", query="SELECT 1")


def test_passwords_are_masked() -> None:
    masked = mask_url("postgresql://ana:s3cret@db.example/sales")
    assert "s3cret" not in masked
    assert masked.startswith("postgresql://ana:")
    assert mask_url("/home/ana/data/houses.db") == "houses.db"


def test_unknown_driver_is_a_clear_error() -> None:
    with pytest.raises(DataError, match="nosuchdb"):
        load_frame("nosuchdb://x/y", table="t")


def test_missing_sqlite_url_is_not_found_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for url in ("sqlite:///nosuch.db", f"sqlite:///{tmp_path}/deeper.db", "nosuch.db"):
        with pytest.raises(DataError, match="database file not found"):
            load_frame(url, table="t")
    assert list(tmp_path.iterdir()) == []


def test_sqlite_url_is_opened_read_only_too(houses_db: Path) -> None:
    with pytest.raises(DataError, match="readonly|read-only"):
        load_frame(f"sqlite:///{houses_db}", query="DELETE FROM houses RETURNING rooms")


@pytest.mark.parametrize(
    ("url", "hint"),
    [
        ("mysql://ana@db.example/sales", "pymysql"),
        ("mariadb://ana@db.example/sales", "pymysql"),
        ("postgresql://ana@db.example/sales", "psycopg"),
        ("mssql+pyodbc://ana@db.example/sales", "pyodbc"),
    ],
)
def test_missing_driver_hint_names_this_dialects_driver(url: str, hint: str) -> None:
    import importlib.util

    module = {"pymysql": "MySQLdb", "psycopg": "psycopg", "pyodbc": "pyodbc"}[hint]
    if importlib.util.find_spec(module) is not None:
        pytest.fail(f"{module} is installed here; this test needs it absent")
    with pytest.raises(DataError, match="is not installed") as caught:
        load_frame(url, table="t")
    message = str(caught.value)
    assert hint in message
    if hint != "psycopg":
        assert "psycopg" not in message


def test_argument_errors_come_before_heavy_imports(tmp_path: Path) -> None:
    """A missing file is answered before pandas, scikit-learn or SQLAlchemy are imported."""
    import json
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from sklambda.cli import main\n"
        "codes = [main(a) for a in json.loads(sys.argv[1])]\n"
        "heavy = ('pandas', 'sklearn', 'scipy', 'sqlalchemy', 'numpy', 'skops')\n"
        "print(json.dumps([codes, [m for m in heavy if m in sys.modules]]))\n"
    )
    calls = [
        ["train", "--db", "nope.db", "--table", "t", "--target", "y", "--out", "o"],
        ["train", "--db", "sqlite:///nope.db", "--table", "t", "--target", "y", "--out", "o"],
        ["import", "--model", "nope.sav", "--out", "o", "--trust-pickle"],
        ["predict", "nope", "--json", "{}"],
        ["info", "nope"],
        ["build", "nope", "--out", "d"],
    ]
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(calls)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    codes, heavy = json.loads(out.stdout)
    assert codes == [2] * len(calls)
    assert heavy == []
    assert len(out.stderr.strip().splitlines()) == len(calls)  # one line each
    assert list(tmp_path.iterdir()) == []
