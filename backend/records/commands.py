"""``yibao records verify | check FILE.zip | seal``: the sealed records from the command line.

Exit codes as every ``yibao`` command: 0 all holds, 1 something failed (each failure named on
stdout, one line each), 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_verify(args: argparse.Namespace) -> int:
    """Rebuild and check every submitted record and every photo file it names."""
    from backend.cli import _run_db, _settings_or_exit
    from backend.records.verify import verify_records

    settings = _settings_or_exit()

    async def work() -> int:
        only = {i.lower() for i in args.inspection} if args.inspection else None
        report = await verify_records(settings, only)
        for line in report.problems:
            print(line)
        if report.ok:
            print(f"{report.checked} sealed records verified: digests, signatures, content and photos match")
            return 0
        print(f"{len(report.problems)} problems in {report.checked} records checked")
        return 1

    return _run_db(work)


def cmd_check(args: argparse.Namespace) -> int:
    """Check an evidence ZIP offline against the published key."""
    from backend.cli import _settings_or_exit
    from backend.records.keys import load_public_pem, signing_key
    from backend.records.verify import check_zip

    if args.key:
        try:
            public = load_public_pem(Path(args.key).read_bytes())
        except (OSError, ValueError) as exc:
            print(f"error: cannot read the public key {args.key}: {exc}", file=sys.stderr)
            return 2
    else:
        public = signing_key(_settings_or_exit()).public
    path = Path(args.path)
    report = check_zip(path, public)
    for line in report.problems:
        print(f"{path}: {line}")
    if report.ok:
        print(f"{path}: record.json, its signature and every photo verify")
        return 0
    return 1


def cmd_seal(_: argparse.Namespace) -> int:
    """Seal every submitted inspection that has no seal yet (records submitted before sealing
    existed); audited."""
    from backend.cli import _run_db
    from backend.db import write_transaction
    from backend.inspections.tables import Inspection, InspectionStatus
    from backend.records.seal import seal_inspection
    from backend.records.tables import RecordSeal

    async def work() -> int:
        sealed = {r["inspection"] for r in await RecordSeal.select(RecordSeal.inspection)}
        todo = [
            r["id"]
            for r in await Inspection.select(Inspection.id).where(
                Inspection.status == InspectionStatus.submitted.value
            )
            if r["id"] not in sealed
        ]
        for inspection_id in todo:
            async with write_transaction():  # the seal and its audit event together
                await seal_inspection(inspection_id, reason="backfill")
        print(f"{len(todo)} submitted inspections sealed")
        return 0

    return _run_db(work)


def add_records_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``yibao records ...``."""
    records = sub.add_parser("records", help="sealed inspection records: verify, check a ZIP")
    records_sub = records.add_subparsers(dest="records_command", required=True)
    verify = records_sub.add_parser(
        "verify", help="rebuild every submitted record and check digest, signature and photos"
    )
    verify.add_argument(
        "--inspection", action="append", metavar="ID", help="check only this inspection (repeatable)"
    )
    verify.set_defaults(func=cmd_verify)
    check = records_sub.add_parser("check", help="check an evidence ZIP offline")
    check.add_argument("path", help="the evidence ZIP (GET /api/inspections/{id}/evidence.zip)")
    check.add_argument(
        "--key", help="the published public key (PEM; default: this deployment's key)"
    )
    check.set_defaults(func=cmd_check)
    seal = records_sub.add_parser("seal", help="seal submitted inspections that have no seal")
    seal.set_defaults(func=cmd_seal)
