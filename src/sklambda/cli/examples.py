"""The example each command's ``--help`` ends with: one or two lines a user can paste.

Kept in one place so every command has one (``tests/cli/test_cli.py`` checks) and the examples
read as one story, the README's quickstart: the demo database ``make demo`` writes
(``demo-out/diabetes.db``, table ``patients``), the bundle ``diabetes`` trained on it, and its
package ``dist/diabetes``.
"""

from __future__ import annotations

EXAMPLES: dict[str, str] = {
    "train": "sklambda train --db demo-out/diabetes.db --table patients --target progression "
    "--out diabetes",
    "import": "sklambda import --model model.sav --scaler scaler.pkl --features rooms,age,area "
    "--out houses --trust-pickle",
    "predict": "sklambda predict diabetes --json "
    "'{\"instances\": [[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]]}'\n"
    "  sklambda predict diabetes --csv new_rows.csv",
    "info": "sklambda info diabetes",
    "build": "sklambda build diabetes --out dist/diabetes",
    "serve": "sklambda serve dist/diabetes --port 9000",
    "invoke": "sklambda invoke dist/diabetes --json "
    "'{\"instances\": [[59, 2, 32.1, 101, 157, 93.2, 38, 4, 4.8598, 87]]}'",
    "deploy": "sklambda deploy dist/diabetes --name diabetes --region eu-west-1",
    "status": "sklambda status diabetes --region eu-west-1",
    "rollback": "sklambda rollback diabetes --region eu-west-1",
    "promote": "sklambda promote diabetes --region eu-west-1",
    "destroy": "sklambda destroy diabetes --region eu-west-1",
    "export": "sklambda export sam dist/diabetes --name diabetes --out infra/",
    "export sam": "sklambda export sam dist/diabetes --name diabetes --out infra/",
    "export serverless": "sklambda export serverless dist/diabetes --name diabetes --out infra/",
    "logs": "sklambda logs diabetes --since 1h --errors",
    "alerts": 'echo "$BOT_TOKEN" | sklambda alerts telegram diabetes --chat-id -100123 '
    "--token-from-stdin",
    "alerts telegram": 'echo "$BOT_TOKEN" | sklambda alerts telegram diabetes --chat-id -100123 '
    "--token-from-stdin",
    "alerts package": "sklambda alerts package --out dist/alerts",
    "alerts test": "sklambda alerts test diabetes",
    "alerts remove": "sklambda alerts remove diabetes",
    "bench": "sklambda bench dist/diabetes --memory 128,512,1769 --cold 5 --warm 20 "
    "--out bench.json",
    "tune": "sklambda tune dist/diabetes --strategy balanced --out tune.json --apply",
    "cost": "sklambda cost --from tune.json --requests-per-month 3000000",
}


def epilog(command: str) -> str | None:
    """The ``--help`` epilog of a command (``"alerts telegram"`` for a nested one)."""
    example = EXAMPLES.get(command)
    return None if example is None else f"example:\n  {example}"
