"""Running the real ``yibao`` command in a subprocess, with the test run's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

YIBAO = str(Path(sys.executable).parent / "yibao")


def run_yibao(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``yibao ARGS`` and capture its output (the environment defaults to this run's)."""
    return subprocess.run(
        [YIBAO, *args],
        env={**os.environ, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
