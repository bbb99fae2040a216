"""``yibao tracking rebuild``: recount the 看板's answer tallies from the submitted answers.

The tallies are written with every submission, so this is needed only after rows were changed
outside the application (a data repair, rows loaded straight into the tables). Exit codes as
every ``yibao`` command: 0 done, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse


def cmd_rebuild(_: argparse.Namespace) -> int:
    """Empty the tallies and count every submitted inspection's answers again (one transaction)."""
    from backend.audit.services import Actor
    from backend.cli import _run_db, _settings_or_exit
    from backend.tracking.tally import rebuild

    _settings_or_exit()

    async def work() -> int:
        counts = await rebuild(Actor.system("cli"))
        print(
            f"看板统计已重建：按日 {counts['finding_tally_day']} 行，按月 {counts['finding_tally_month']} 行"
        )
        return 0

    return _run_db(work)


def add_tracking_parser(sub: argparse._SubParsersAction) -> None:
    """``yibao tracking …`` on the main parser."""
    tracking = sub.add_parser("tracking", help="the dashboard's summary tables")
    tracking_sub = tracking.add_subparsers(dest="tracking_command", required=True)
    tracking_sub.add_parser(
        "rebuild", help="recount the answer tallies behind the most-failed items from the raw rows"
    ).set_defaults(func=cmd_rebuild)
