"""Write one benchmark's section of RESULTS.md, keeping the other benchmarks' sections."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sklambda.benchmarking.benchmark import machine

RESULTS = Path(__file__).with_name("RESULTS.md")
HEADER = (
    "# Benchmark results\n\n"
    "Each section is written by the script it names (`make bench` runs them all); numbers are "
    "measured side by side in one run on the machine named in the section.\n"
)


def write_section(name: str, body: str) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- {name}:start -->\n## {name}\n\n_{stamp}; {machine()}_\n\n{body.strip()}\n"
        f"<!-- {name}:end -->"
    )
    pattern = re.compile(
        rf"<!-- {re.escape(name)}:start -->.*?<!-- {re.escape(name)}:end -->", re.S
    )
    text = pattern.sub(section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    RESULTS.write_text(text.rstrip() + "\n")
