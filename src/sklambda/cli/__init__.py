"""The `sklambda` command: a thin layer over the Python API.

One module per command group, each adding its own parsers and handlers:
:mod:`~sklambda.cli.models` (train, import, predict, info), :mod:`~sklambda.cli.packaging`
(build), :mod:`~sklambda.cli.local` (serve, invoke), :mod:`~sklambda.cli.aws` (deploy, status,
rollback, destroy, export), :mod:`~sklambda.cli.monitor` (logs, alerts),
:mod:`~sklambda.cli.measuring` (bench, tune, cost). Only the CLI renders
(:mod:`~sklambda.cli.console`); library code reports progress through callbacks.

Every problem the user can fix — a :class:`~sklambda.errors.SklambdaError`, a request that breaks
the contract, an ``OSError`` the user caused (port in use, unwritable ``--out``) — prints one
line on stderr and exits with code 2, without a traceback; a closed pipe (``| head``) ends
quietly.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence

from sklambda.cli.parsing import EXIT_USAGE, Parser

Handler = Callable[[argparse.Namespace], int]

# OSErrors that come from what the user asked for (a path, a port), not from a fault of sklambda.
_USER_ERRNOS = frozenset(
    {
        errno.EACCES,
        errno.EPERM,
        errno.ENOENT,
        errno.EEXIST,
        errno.EISDIR,
        errno.ENOTDIR,
        errno.ENOTEMPTY,
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EROFS,
        errno.ENAMETOOLONG,
        errno.EADDRINUSE,
        errno.EADDRNOTAVAIL,
    }
)


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser and ``{command: handler}``."""
    from sklambda import __version__
    from sklambda.cli import aws, local, measuring, models, monitor, packaging

    parser = Parser(
        prog="sklambda",
        description="Turn scikit-learn models into small, verified AWS Lambda services.",
    )
    parser.add_argument("--version", action="version", version=f"sklambda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    handlers: dict[str, Handler] = {}
    handlers.update(models.add_parsers(commands))
    handlers.update(packaging.add_parsers(commands))
    handlers.update(local.add_parsers(commands))
    handlers.update(aws.add_parsers(commands, Parser))
    handlers.update(monitor.add_parsers(commands, Parser))
    handlers.update(measuring.add_parsers(commands))
    _add_examples(commands)
    return parser, handlers


def _add_examples(commands: argparse._SubParsersAction, prefix: str = "") -> None:
    """End every command's help with its example (:mod:`sklambda.cli.examples`)."""
    from sklambda.cli.examples import epilog

    for name, sub in commands.choices.items():
        path = f"{prefix}{name}"
        if sub.epilog is None:
            sub.epilog = epilog(path)
        for action in sub._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_examples(action, f"{path} ")


def _one_line(command: str, message: str) -> int:
    print(f"sklambda {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    from sklambda.errors import SklambdaError
    from sklambda.runtime.contract import RequestError

    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except SklambdaError as exc:
        return _one_line(args.command, exc.for_cli())
    except RequestError as exc:
        where = f" [{exc.field}]" if exc.field else ""
        return _one_line(args.command, f"{exc.code}{where}: {exc.message}")
    except BrokenPipeError:
        raise
    except OSError as exc:
        if exc.errno not in _USER_ERRNOS:
            raise
        return _one_line(args.command, _os_error(exc))
    except KeyboardInterrupt:
        return 130


def _quiet_broken_pipe() -> None:
    """The reader of stdout went away (``| head``): stop writing, without a traceback."""
    # Python flushes stdout at exit; point it at /dev/null so that flush cannot fail again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def run() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
        code = 0
    sys.exit(code)


if __name__ == "__main__":
    run()
