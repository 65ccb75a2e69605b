"""Errors a user can fix. The CLI prints them as one line and exits with code 2.

Each names what was wrong, what was expected, and the fix. Faults of sklambda itself are ordinary
exceptions and keep their traceback. Every error a user can fix is in this one tree::

    SklambdaError                     a problem the user can fix (CLI: one line, exit 2)
    ├── DataError                     the database, table, query or columns (sklambda.data)
    ├── TrainError                    training options that do not fit the data (sklambda.training)
    ├── BundleError                   a bundle missing, damaged, newer, or unwritable (bundle/)
    │   └── UntrustedModelError       loading would run code or build types not vouched for
    ├── BuildError                    a package that cannot be built or did not prove itself
    ├── DistError                     a package directory whose build.json cannot be read
    │                                 (sklambda.dist; the emulator's DistError is also one)
    ├── LocalError                    the local emulator (sklambda.local.errors)
    │   ├── SettingsError             memory, timeout, host, port, env outside Lambda's range
    │   │                             (also a ValueError)
    │   ├── DistError                 a package directory missing a file, or malformed
    │   ├── RuntimeClientError        awslambdaric could not be installed
    │   ├── TooManyRequestsError      every environment stayed busy (Lambda's 429)
    │   └── RequestTooLargeError      an event over Lambda's 6 MB payload
    ├── BenchError                    a benchmark that cannot run as asked, a bad results file
    │                                 (benchmarking.errors)
    ├── CostError                     cost inputs that do not fit together (costing.errors)
    │   └── PricesError               a malformed price file, or a price it lacks
    ├── ChartError                    a chart that cannot be drawn: matplotlib missing (plotting)
    ├── AwsError                      an AWS call failed in a way the user can act on (aws.errors)
    │   ├── CredentialsError          no usable credentials
    │   ├── RegionError               no region, or one without function URLs
    │   ├── PermissionDeniedError     the identity lacks a permission (named)
    │   ├── PackageTooLargeError      an artifact over one of Lambda's size limits
    │   ├── NotManagedError           a resource of that name that sklambda did not create
    │   ├── NotConfirmedError         destroy without --yes (not confirmed, or no terminal)
    │   └── DeployError               the deployment could not complete
    └── MonitorError                  alarms, logs or alerts that cannot be set up as asked
                                      (sklambda.monitor.errors)

    RequestError                      a request that breaks the HTTP contract (400; CLI: exit 2).
                                      In sklambda.runtime.contract, which runs inside Lambda and
                                      imports nothing of sklambda, so it is not a SklambdaError.

A fix that names a setting is written once, as an :class:`Option`, and each caller sees it in its
own language: ``python="3.12"`` from Python, ``--python 3.12`` from the shell (``for_cli``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Option:
    """A setting named in an error's fix: a keyword argument in Python, a flag in the shell.

    ``value`` is the suggested value (``None``: the setting itself is the fix, e.g. a switch; a
    list: a repeatable flag, given once per item). ``cli_name``: the flag's name when it differs
    from the argument's (``trusted_types=[...]`` is ``--trust-type X`` once per type).
    """

    name: str
    value: object = None
    cli_name: str | None = None

    def for_python(self) -> str:
        if self.value is None:
            return f"{self.name}=True"
        return f"{self.name}={self.value!r}"

    def for_cli(self) -> str:
        import shlex

        flag = "--" + (self.cli_name or self.name).replace("_", "-")
        if self.value is None:
            return flag
        values = self.value if isinstance(self.value, list | tuple) else [self.value]
        return " ".join(f"{flag} {shlex.quote(str(v))}" for v in values)


def literal(text: str) -> str:
    """``text`` (a name from a file, an exception's words) safe inside a message template that
    has options: its braces are not placeholders. A message without options is not formatted."""
    return text.replace("{", "{{").replace("}", "}}")


class SklambdaError(Exception):
    """Base class for problems the user can fix (bad input, missing file, unsafe model...).

    ``message`` may hold ``{0}``, ``{1}``… placeholders for ``options``: ``str(error)`` fills them
    the Python way and :meth:`for_cli` the shell way.
    """

    def __init__(self, message: str, *options: Option) -> None:
        self.template = message
        self.options = options
        super().__init__(self._render(Option.for_python))

    def _render(self, spell: object) -> str:
        if not self.options:
            return self.template
        return self.template.format(*(spell(o) for o in self.options))  # type: ignore[operator]

    def for_cli(self) -> str:
        """The message with every option spelled as the flag a shell user types."""
        return self._render(Option.for_cli)


class DataError(SklambdaError):
    """The database, table, query or columns cannot be used for training."""


class TrainError(SklambdaError):
    """The training options do not fit the data (task, estimator, target)."""


class BundleError(SklambdaError):
    """A bundle is missing, damaged, from a newer sklambda, or cannot be written."""


class UntrustedModelError(BundleError):
    """Loading the model would run code or build types that sklambda does not vouch for."""


class BuildError(SklambdaError):
    """The package cannot be built or did not prove itself; nothing was written."""
