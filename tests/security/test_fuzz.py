"""schemathesis over the whole OpenAPI, as each role and anonymously: no 5xx, and every response
matching the schema declared for it.

The run happens once, in a process of its own with its own SQLite database
(``tests/security/fuzz_run.py``), so that what the generated requests change never reaches the
rest of the suite. CI runs ``YIBAO_FUZZ_EXAMPLES`` (default 5) examples per operation; a longer
run is one command:

    YIBAO_FUZZ_EXAMPLES=500 scripts/test tests/security/test_fuzz.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.fuzz_run import ROLES

RUNNER = Path(__file__).with_name("fuzz_run.py")
EXAMPLES = int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "5"))


@pytest.fixture(scope="module")
def report() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_") or k.startswith("YIBAO_FUZZ")}
    done = subprocess.run(
        [sys.executable, str(RUNNER), "--examples", str(EXAMPLES)],
        capture_output=True, text=True, env=env, timeout=3600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_whole_api_was_tried(report) -> None:
    assert report["operations"] >= 90, report["operations"]
    assert report["requests"] >= report["operations"] * len(ROLES)


@pytest.mark.parametrize("role", list(ROLES))
def test_no_server_error_and_every_response_as_declared(report, role) -> None:
    failures = [f for f in report["failures"] if f["role"] == role]
    lines = [
        f"{f['operation']} → {f['status']} ({f['check']}): {f['request']}\n{f['message'][:800]}"
        for f in failures[:10]
    ]
    assert not failures, f"{len(failures)} failures as {role}:\n" + "\n\n".join(lines)
