"""The interpreters this machine has for a target, and when a twin is proven instead.

This machine can only run binaries of its own architecture and interpreters it has: when the
target differs in either, a twin (the same function code and package releases, for this
machine's Python and architecture) is what gets verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sklambda.building.targets import Target, host_arch, host_machine

if TYPE_CHECKING:
    from sklambda.local.interpreters import Interpreter


@dataclass(frozen=True)
class Machines:
    """Who compiles for the target, who runs the proof, and whether that is a twin."""

    interpreter: Interpreter | None
    """The target's Python on this machine (compiles bytecode, traces imports), if any."""
    host: Interpreter | None
    """The interpreter a twin is traced with: the target's, else this machine's version."""
    here: Target
    """The runtime a twin is built for."""
    foreign_arch: bool
    twin: bool

    def why_twin(self, tgt: Target) -> str:
        if self.foreign_arch:
            return f"this machine is {self.here.arch}, not {tgt.arch}"
        return f"no python{tgt.python} interpreter here"


def find_machines(tgt: Target) -> Machines:
    """The interpreters for ``tgt`` on this machine."""
    from sklambda.local.interpreters import find_interpreter, host_version

    interpreter = find_interpreter(tgt.python)
    foreign_arch = tgt.machine != host_machine()
    host = interpreter if interpreter is not None else find_interpreter(host_version())
    here = Target(tgt.python if interpreter is not None else host_version(), host_arch())
    return Machines(
        interpreter=interpreter,
        host=host,
        here=here,
        foreign_arch=foreign_arch,
        twin=interpreter is None or foreign_arch,
    )
