"""`make demo`: the whole path on built-in data, no AWS account needed.

Creates a SQLite database from scikit-learn's bundled diabetes table (nothing is downloaded),
then runs the same commands a user would type, printing each one first.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sqlite3
from pathlib import Path

from sklambda.cli import main as cli


def make_database(path: Path) -> Path:
    """Write the diabetes data (442 patients, 10 features, disease progression) to SQLite."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame = frame.rename(columns={"target": "progression"})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as conn:
        frame.to_sql("patients", conn, index=False)
    return path


def _run(*words: str) -> None:
    from sklambda.cli.console import out_console

    out_console().print(f"\n[bold cyan]$ sklambda {shlex.join(words)}[/bold cyan]")
    code = cli(list(words))
    if code != 0:
        raise SystemExit(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sklambda.demo")
    parser.add_argument("--out", type=Path, default=Path("demo-out"))
    args = parser.parse_args(argv)

    db = make_database(args.out / "diabetes.db")
    bundle = args.out / "diabetes"
    print(f"demo database: {db} (table patients, 442 rows)")
    _run(
        "train",
        "--db",
        str(db),
        "--table",
        "patients",
        "--target",
        "progression",
        "--out",
        str(bundle),
        "--name",
        "diabetes",
    )
    _run("info", str(bundle))
    request = {
        "instances": [
            {
                "age": 59,
                "sex": 2,
                "bmi": 32.1,
                "bp": 101,
                "s1": 157,
                "s2": 93.2,
                "s3": 38,
                "s4": 4,
                "s5": 4.8598,
                "s6": 87,
            },
            [48, 1, 21.6, 87, 183, 103.2, 70, 3, 3.8918, 69],
        ]
    }
    _run("predict", str(bundle), "--json", json.dumps(request))
    print("\nA malformed request is a clear error, not a traceback:")
    try:
        _run("predict", str(bundle), "--json", '{"instances": [{"age": 59}]}')
    except SystemExit as exc:
        print(f"(exit code {exc.code})")

    dist = args.out / "dist"
    _run("build", str(bundle), "--out", str(dist))
    serve_and_ask(dist, request)
    return 0


def _post(url: str, body: object) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def serve_and_ask(dist: Path, request: dict) -> None:
    """Serve the package on loopback like a function URL and ask it over real HTTP."""
    from sklambda.cli.console import out_console
    from sklambda.local import serve

    console = out_console()
    console.print(f"\n[bold cyan]$ sklambda serve {dist} --port 0[/bold cyan]  (no Docker)")
    reports: list[str] = []
    with serve(dist, port=0, concurrency=2, on_report=lambda r: reports.append(r.line)) as server:
        console.print(f"function URL: {server.url}")
        asks = [
            ("cold start", request),
            ("warm", request),
            ("warm", {"instances": [{**request["instances"][0], "bmi": "high"}]}),
        ]
        for label, body in asks:
            status, text = _post(server.url, body)
            console.print(f"[bold]POST {server.url}[/bold] ({label}) → HTTP {status}")
            console.print(f"  {text}", markup=False, highlight=False)
            console.print(f"  [dim]{reports[-1] if reports else ''}[/dim]")
    console.print("server stopped; no environment left running.")


if __name__ == "__main__":
    raise SystemExit(main())
