"""The whole OpenAPI tried as an attacker would, with schemathesis, in a database of its own.

Run by ``tests/security/test_fuzz.py`` in a separate process (so that whatever the generated
requests change stays out of the rest of the suite): a fresh SQLite database in a temporary data
folder, migrated, with the shipped checklists and the demo data; the app in-process over httpx's
ASGI transport. For each operation of ``/schema/openapi.json`` schemathesis generates
``--examples`` requests (valid and invalid by the schema); each is sent as every role (admin,
supervisor, inspector, manager) and anonymously, and each response is checked: no 5xx, a
documented content type, and a body matching the schema declared for its status.

Prints one JSON object: ``{"operations": n, "requests": n, "failures": [{role, operation,
check, status, message, request}]}``.

    python tests/security/fuzz_run.py --examples 500 --seed 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROLES = {
    "admin": "admin",
    "supervisor": "supervisor",
    "inspector": "inspector",
    "manager": "manager",
    "anonymous": None,
}


def _environment(data_dir: Path) -> None:
    """Settings fixed before the backend is imported (its database engine is built at import)."""
    os.environ["YIBAO_DATA_DIR"] = str(data_dir)
    os.environ["YIBAO_ENV"] = "development"
    os.environ["YIBAO_SECRET_KEY"] = "fuzz-secret-key-" + "x" * 32
    os.environ["YIBAO_LOG_LEVEL"] = os.environ.get("YIBAO_FUZZ_LOG_LEVEL", "CRITICAL")
    os.environ["YIBAO_LOGIN_RATE_PER_MINUTE"] = "1000000"
    os.environ["PICCOLO_CONF"] = "backend.piccolo_conf"
    os.environ.pop("YIBAO_DATABASE_URL", None)
    os.environ.pop("YIBAO_DEMO", None)


def _cases(operation: Any, examples: int, seed: int) -> list[Any]:
    """Up to ``examples`` generated cases of one operation (generation only, nothing sent)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    found: list[Any] = []

    @hseed(seed)
    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        derandomize=False,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy())
    def collect(case: Any) -> None:
        found.append(case)

    collect()
    return found


def _httpx_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis speaks ``requests``' arguments; httpx takes bytes as ``content``."""
    # Cookies are left out: the API reads none (tokens travel in the Authorization header).
    out = {k: v for k, v in kwargs.items() if k in {"method", "url", "headers", "params"}}
    if "json" in kwargs:
        out["content"] = json.dumps(kwargs["json"]).encode()
        out.setdefault("headers", {})
        out["headers"] = {**out["headers"], "Content-Type": "application/json"}
    elif isinstance(kwargs.get("data"), (bytes, str)):
        out["content"] = kwargs["data"]
    elif kwargs.get("data") is not None or kwargs.get("files") is not None:
        # Multipart: encoded the way schemathesis means it (requests' encoder), sent as bytes.
        import requests

        prepared = requests.Request(
            "POST", "http://testserver/", data=kwargs.get("data"), files=kwargs.get("files")
        ).prepare()
        headers = {k: v for k, v in (out.get("headers") or {}).items() if k.lower() != "content-type"}
        if prepared.headers.get("Content-Type"):
            headers["Content-Type"] = prepared.headers["Content-Type"]
        out["headers"] = headers
        out["content"] = prepared.body or b""
    return out


async def run(examples: int, seed: int, roles: list[str], only: str = "") -> dict[str, Any]:
    import logging

    import httpx
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
    )

    from backend import db
    from backend.app import create_app
    from backend.audit.services import Actor
    from backend.checklists.services import load_paths
    from backend.demo import create_demo_data, demo_password
    from backend.migrations import migrate
    from backend.settings import REPO_ROOT, get_settings

    logging.getLogger("httpx").setLevel(logging.WARNING)
    await db.start()
    await migrate()
    await load_paths([REPO_ROOT / "checklists"], Actor.system("fuzz"))
    await create_demo_data(get_settings())

    app = create_app()
    schema = schemathesis.openapi.from_dict(app.openapi_schema.to_schema())
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    base = "http://testserver"
    failures: list[dict[str, Any]] = []
    sent = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if only in op.path]
    # Sign-out and password routes last: they may end the fuzzing session they are sent with.
    operations.sort(key=lambda op: op.path.startswith("/api/auth"))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=base, timeout=60
    ) as http:

        async def sign_in(username: str) -> dict[str, str]:
            response = await http.post(
                "/api/auth/login",
                json={"username": username, "password": demo_password(), "device_id": f"fuzz-{username}"},
            )
            response.raise_for_status()
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        headers = {role: (await sign_in(user) if user else {}) for role, user in ROLES.items() if role in roles}
        for operation in operations:
            cases = _cases(operation, examples, seed)
            for role in roles:
                for case in cases:
                    kwargs = _httpx_kwargs(case.as_transport_kwargs(base_url=base, headers=headers[role]))
                    sent += 1
                    try:
                        response = await http.request(**kwargs)
                    except Exception as exc:  # the app itself raised: as bad as a 500
                        failures.append({"role": role, "operation": operation.label, "check": "exception",
                                         "status": None, "message": repr(exc), "request": _describe(kwargs)})
                        continue
                    await response.request.aread()  # the checks read what was sent
                    if response.status_code == 401 and ROLES[role]:
                        headers[role] = await sign_in(ROLES[role])  # the case signed its session out
                    try:
                        case.validate_response(response, checks=checks)
                    except (Exception, BaseExceptionGroup) as exc:  # one error naming every failed check
                        failures.append({
                            "role": role, "operation": operation.label, "check": type(exc).__name__,
                            "status": response.status_code, "message": str(exc)[:1500],
                            "request": _describe(kwargs), "response": response.text[:500],
                        })
    await db.stop()
    return {"operations": len(operations), "requests": sent, "failures": failures}


def _describe(kwargs: dict[str, Any]) -> str:
    content = kwargs.get("content")
    body = content[:300] if isinstance(content, (bytes, str)) else kwargs.get("data")
    return f"{kwargs.get('method')} {kwargs.get('url')} params={kwargs.get('params')} body={body!r}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=int(os.environ.get("YIBAO_FUZZ_EXAMPLES", "5")))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("YIBAO_FUZZ_SEED", "11")))
    parser.add_argument("--roles", default=",".join(ROLES))
    parser.add_argument("--only", default="", help="only operations whose path contains this")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="yibao-fuzz-") as tmp:
        _environment(Path(tmp))
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        report = asyncio.run(run(args.examples, args.seed, args.roles.split(","), args.only))
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
