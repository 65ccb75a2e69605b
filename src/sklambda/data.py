"""Load training data from a SQL database (SQLite file path or any SQLAlchemy URL)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sklambda.errors import DataError

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Source:
    """Where training data came from, safe to record (passwords are masked)."""

    url: str
    table: str | None = None
    query: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url}
        if self.table is not None:
            out["table"] = self.table
        if self.query is not None:
            out["query"] = self.query
        return out


# The driver each dialect needs, for a URL whose driver is not installed.
DRIVERS = {
    "postgresql": "psycopg: `uv pip install 'psycopg[binary]'`, URL postgresql+psycopg://...",
    "mysql": "PyMySQL: `uv pip install pymysql`, URL mysql+pymysql://... (or mysqlclient)",
    "mariadb": "PyMySQL: `uv pip install pymysql`, URL mariadb+pymysql://... (or mysqlclient)",
    "mssql": "pyodbc: `uv pip install pyodbc`, URL mssql+pyodbc://... (plus Microsoft's ODBC "
    "driver)",
    "oracle": "python-oracledb: `uv pip install oracledb`, URL oracle+oracledb://...",
    "snowflake": "snowflake-sqlalchemy: `uv pip install snowflake-sqlalchemy`",
    "duckdb": "duckdb-engine: `uv pip install duckdb-engine`",
    "redshift": "sqlalchemy-redshift: `uv pip install sqlalchemy-redshift redshift_connector`",
    "bigquery": "sqlalchemy-bigquery: `uv pip install sqlalchemy-bigquery`",
}


def _is_url(db: str) -> bool:
    return "://" in db


def sqlite_path(db: str) -> Path | None:
    """The file a SQLite path or ``sqlite:///`` URL names; None for other databases and for
    in-memory SQLite."""
    if not _is_url(db):
        return Path(db).expanduser()
    scheme, _, rest = db.partition("://")
    if scheme.split("+", 1)[0].lower() != "sqlite":
        return None
    path = rest.split("?", 1)[0]
    # sqlite:///relative.db and sqlite:////absolute.db: the path starts after the third slash
    path = path[1:] if path.startswith("/") else path
    if path in ("", ":memory:") or path.startswith("file:"):
        return None
    return Path(path).expanduser()


def check_database(db: str) -> None:
    """What can be checked without importing anything heavy: a SQLite file must exist (and is
    never created: SQLite would make an empty one for a mistyped name)."""
    path = sqlite_path(db)
    if path is not None and not path.is_file():
        shown = db if _is_url(db) else str(path)
        raise DataError(
            f"database file not found: {shown}"
            + (" (it is a directory)" if path.is_dir() else "")
            + "; pass a SQLite file path or a SQLAlchemy URL such as postgresql://user@host/db"
        )


def _engine(db: str) -> Any:
    """An engine for a SQLite file (opened read-only: training never writes) or a URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    check_database(db)
    path = sqlite_path(db)
    if path is not None:
        uri = f"file:{path.resolve()}?mode=ro"

        def connect() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True)

        return create_engine("sqlite://", creator=connect)
    try:
        return create_engine(db)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise DataError(f"cannot use database URL {mask_url(db)}: {exc}") from None
    except ModuleNotFoundError as exc:
        dialect = db.split("://", 1)[0].split("+", 1)[0].lower()
        hint = DRIVERS.get(dialect, f"the {dialect} driver SQLAlchemy names for this URL")
        raise DataError(
            f"the driver for {mask_url(db)} is not installed (no module {exc.name}); install {hint}"
        ) from None


def mask_url(db: str) -> str:
    """The database location without its password, fit for logs and manifests."""
    if not _is_url(db):
        return str(Path(db).name)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(db).render_as_string(hide_password=True)
    except ArgumentError:
        return db.split("://", 1)[0] + "://***"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def load_frame(db: str, *, table: str | None = None, query: str | None = None) -> pd.DataFrame:
    """Read a table or the result of a query into a DataFrame.

    Parameters
    ----------
    db:
        A SQLite file path, or a SQLAlchemy URL (``postgresql://...``, ``sqlite:///x.db``).
    table, query:
        Exactly one of them: the table to read whole, or a SELECT to run.

    Raises
    ------
    DataError
        The database, table or query cannot be read, or it returns no rows.
    """
    if (table is None) == (query is None):
        raise DataError("pass exactly one of --table and --query")
    check_database(db)  # before pandas and SQLAlchemy are imported: a typo is answered at once
    import pandas as pd
    from sqlalchemy import inspect, text
    from sqlalchemy.exc import SQLAlchemyError

    engine = _engine(db)
    try:
        with engine.connect() as conn:
            if table is not None:
                tables = inspect(conn).get_table_names()
                views = inspect(conn).get_view_names()
                if table not in tables and table not in views:
                    known = ", ".join(sorted(tables + views)) or "none"
                    raise DataError(
                        f'table "{table}" not found in {mask_url(db)}; tables there: {known}'
                    )
                frame = pd.read_sql_table(table, conn)
            else:
                frame = pd.read_sql_query(text(query or ""), conn)
    except DataError:
        raise
    except (SQLAlchemyError, pd.errors.DatabaseError) as exc:
        cause = exc.__cause__ if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ else exc
        raise DataError(f"cannot read from {mask_url(db)}: {_first_line(cause)}") from None
    finally:
        engine.dispose()
    if frame.empty:
        what = f'table "{table}"' if table is not None else "the query"
        raise DataError(f"{what} returned no rows; training needs data")
    return frame


def source_of(db: str, *, table: str | None = None, query: str | None = None) -> Source:
    """The record of where data came from, with any password masked."""
    return Source(url=mask_url(db), table=table, query=query)
