"""The ``yibao`` command: serve, migrate, manage checklists, score, demo data, accounts, backups.

Every sub-command reads the same ``YIBAO_*`` settings as the server (see ``backend.settings``).
Exit codes: 0 success, 1 refused or invalid input, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from backend.settings import SettingsError, get_settings


def _settings_or_exit() -> Any:
    try:
        return get_settings()
    except SettingsError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def _run_db(work: Callable[[], Awaitable[int]], *, needs_schema: bool = True) -> int:
    """Run an async command against the database, opening and closing the engine around it."""
    from backend import db
    from backend.errors import DomainError
    from backend.migrations import MigrationFailed, require_migrated

    async def main() -> int:
        await db.start()
        try:
            if needs_schema:
                await require_migrated()
            return await work()
        finally:
            await db.stop()

    try:
        return asyncio.run(main())
    except MigrationFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except SettingsError as exc:
        # A setting needed only by this command (e.g. the signing key every audited write uses).
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2


async def _migrate() -> int:
    from backend.migrations import migrate

    applied = await migrate()
    settings = get_settings()
    where = settings.sqlite_path if settings.is_sqlite else "PostgreSQL"
    print(f"{len(applied)} migrations applied; schema up to date ({where})")
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    _settings_or_exit()
    return _run_db(_migrate, needs_schema=False)


def _checklist_paths(args: argparse.Namespace) -> list[Path]:
    return [Path(p) for p in args.paths] or [_settings_or_exit().checklists_dir]


def cmd_checklists_validate(args: argparse.Namespace) -> int:
    from backend.checklists.commands import validate_command

    return validate_command([str(p) for p in _checklist_paths(args)])


async def _load_checklists(paths: list[Path]) -> int:
    from backend.audit.services import Actor
    from backend.checklists.services import load_paths

    report = await load_paths(paths, Actor.system("cli"))
    for line in report.loaded + report.unchanged:
        print(line)
    for line in report.refused:
        print(f"error: {line}", file=sys.stderr)
    return 0 if report.ok else 1


def cmd_checklists_load(args: argparse.Namespace) -> int:
    paths = _checklist_paths(args)
    return _run_db(lambda: _load_checklists(paths))


def cmd_policy_show(args: argparse.Namespace) -> int:
    """Print the effective policy (defaults, preset, ``YIBAO_POLICY_FILE``) as YAML."""
    from backend.rules.policy import PolicyError, load

    try:
        policy = load(Path(args.file) if args.file else None)
    except PolicyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(policy.to_yaml(), end="")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    from backend.checklists.commands import score_command

    return score_command(args.checklist, args.findings)


async def _demo_data() -> int:
    from backend.demo import create_demo_data

    created = await create_demo_data(get_settings())
    print("demo data created" if created else "demo data already present; nothing changed")
    await _print_demo_logins()
    return 0


async def _print_demo_logins() -> None:
    from backend.demo import demo_logins, demo_password

    logins = await demo_logins()
    if not logins:
        return
    print(f"\n演示账号（密码均为 {demo_password()}）：")
    for login in logins:
        print(f"  {login.username:<20} {login.role:<8} {login.display_name}（{login.scope}）")


def cmd_holidays_load(args: argparse.Namespace) -> int:
    """Load a year of the State Council's holiday schedule (used at once by every worker)."""
    from backend.rectification.holidays import load_file

    _settings_or_exit()

    async def work() -> int:
        done = await load_file(Path(args.file))
        verb = "已更新" if done["replaced"] else "已载入"
        print(
            f"{done['year']} 年节假日安排{verb}：放假 {done['holidays']} 天，"
            f"调休上班 {done['workdays']} 天"
        )
        return 0

    return _run_db(work)


def cmd_demo_data(_: argparse.Namespace) -> int:
    _settings_or_exit()
    return _run_db(_demo_data)


def cmd_create_user(args: argparse.Namespace) -> int:
    from backend.accounts.services import create_user
    from backend.audit.services import Actor

    _settings_or_exit()
    password = args.password
    if password is None:
        password = getpass.getpass("密码: ")
        if getpass.getpass("再次输入密码: ") != password:
            print("error: 两次输入的密码不一致", file=sys.stderr)
            return 1

    async def work() -> int:
        user = await create_user(
            args.username,
            args.role,
            password,
            Actor.system("cli"),
            region_code=args.region,
            institution_code=args.institution,
            display_name=args.display_name or "",
            enforcement_cert_no=args.cert_no or "",
        )
        scope = user["region"] or user["institution"] or "全部"
        print(f"user {user['username']} created: role {user['role']}, scope {scope}")
        return 0

    return _run_db(work)


def cmd_update_user(args: argparse.Namespace) -> int:
    from backend.accounts.services import update_user
    from backend.audit.services import Actor

    _settings_or_exit()
    changes: dict[str, Any] = {}
    if args.command == "disable-user":
        changes["is_active"] = False
    elif args.command == "enable-user":
        changes.update(is_active=True, unlock=True)
    else:
        changes.update(role=args.role, region_code=args.region, institution_code=args.institution)

    async def work() -> int:
        user = await update_user(args.username, Actor.system("cli"), **changes)
        state = "active" if user["is_active"] else "disabled"
        scope = user["region.name"] or user["institution.name"] or "全部"
        print(f"user {user['username']}: role {user['role']}, scope {scope}, {state}")
        return 0

    return _run_db(work)


def cmd_revoke_devices(args: argparse.Namespace) -> int:
    from backend.accounts.sessions import revoke_sessions
    from backend.accounts.tables import User
    from backend.audit.services import Actor

    _settings_or_exit()

    async def work() -> int:
        user = await User.select(User.id).where(User.username == args.username).first()
        if user is None:
            print(f"error: 用户 {args.username} 不存在", file=sys.stderr)
            return 1
        count = await revoke_sessions(Actor.system("cli"), user_id=user["id"], reason="管理员吊销")
        print(f"{count} device sessions of {args.username} revoked")
        return 0

    return _run_db(work)


async def _prepare_to_serve(demo: bool) -> int:
    from backend.migrations import migrate

    settings = get_settings()
    applied = await migrate()
    if applied:
        print(f"{len(applied)} migrations applied")
    code = await _load_checklists([settings.checklists_dir])
    if code != 0:
        return code
    if demo:
        await _demo_data()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = _settings_or_exit()
    try:  # the key that seals records: refused now rather than at the first submission
        from backend.records.keys import signing_key

        signing_key(settings)
    except SettingsError as exc:
        print(f"配置错误：{exc}", file=sys.stderr)
        return 2
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    if workers > 1 and settings.is_sqlite:
        print(
            "error: several workers need PostgreSQL (set YIBAO_DATABASE_URL); "
            "SQLite serves one worker",
            file=sys.stderr,
        )
        return 2
    if not args.no_migrate:
        code = _run_db(lambda: _prepare_to_serve(args.demo or settings.demo), needs_schema=False)
        if code != 0:
            return code
    print(
        f"\n服务地址：http://{host}:{port}/   接口文档：http://{host}:{port}/schema\n", flush=True
    )
    uvicorn.run(
        "backend.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        access_log=False,  # the app logs each request itself, structured
    )
    return 0


def cmd_audit_verify(_: argparse.Namespace) -> int:
    from backend.audit.commands import verify_command

    _settings_or_exit()
    return _run_db(verify_command)


def cmd_audit_seal(_: argparse.Namespace) -> int:
    from backend.audit.commands import seal_command

    _settings_or_exit()
    return _run_db(seal_command)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``yibao`` command."""
    parser = argparse.ArgumentParser(
        prog="yibao",
        description="医保定点医药机构现场检查系统 (field inspection of designated institutions)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="migrate, load checklists and serve the API and the PWA")
    serve.add_argument("--host", help="address to listen on (YIBAO_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (YIBAO_PORT, default 8000)")
    serve.add_argument("--workers", type=int, help="worker processes (PostgreSQL only for >1)")
    serve.add_argument("--demo", action="store_true", help="create demo data on first start")
    serve.add_argument(
        "--no-migrate", action="store_true", help="skip migrations and checklist loading"
    )
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply the database migrations")
    migrate.set_defaults(func=cmd_migrate)

    checklists = sub.add_parser("checklists", help="validate or load checklist files")
    checklist_sub = checklists.add_subparsers(dest="checklists_command", required=True)
    validate = checklist_sub.add_parser("validate", help="report every problem in checklist files")
    validate.add_argument(
        "paths", nargs="*", help="files or folders (default: YIBAO_CHECKLISTS_DIR)"
    )
    validate.set_defaults(func=cmd_checklists_validate)
    load = checklist_sub.add_parser("load", help="load checklist versions into the database")
    load.add_argument("paths", nargs="*", help="files or folders (default: YIBAO_CHECKLISTS_DIR)")
    load.set_defaults(func=cmd_checklists_load)

    score = sub.add_parser("score", help="score findings against a checklist, print JSON")
    score.add_argument("checklist", help="checklist YAML file")
    score.add_argument("findings", help="findings JSON file (a list of answers)")
    score.set_defaults(func=cmd_score)

    demo = sub.add_parser("demo-data", help="create the demo city, institutions and users")
    demo.set_defaults(func=cmd_demo_data)

    create_user = sub.add_parser("create-user", help="create a user account")
    create_user.add_argument("username")
    create_user.add_argument(
        "--role", required=True, choices=["admin", "supervisor", "inspector", "manager"]
    )
    scope = create_user.add_mutually_exclusive_group()
    scope.add_argument("--region", help="region code (inspector, supervisor)")
    scope.add_argument("--institution", help="institution code (manager)")
    create_user.add_argument("--password", help="password (prompted when not given)")
    create_user.add_argument("--display-name", help="name shown in the app")
    create_user.add_argument("--cert-no", help="执法证号: enforcement certificate number")
    create_user.set_defaults(func=cmd_create_user)

    for name, text in (
        ("disable-user", "disable an account (ends its device sessions)"),
        ("enable-user", "enable an account again (and unlock it)"),
    ):
        toggle = sub.add_parser(name, help=text)
        toggle.add_argument("username")
        toggle.set_defaults(func=cmd_update_user)
    set_role = sub.add_parser("set-role", help="give an account another role and scope")
    set_role.add_argument("username")
    set_role.add_argument(
        "--role", required=True, choices=["admin", "supervisor", "inspector", "manager"]
    )
    new_scope = set_role.add_mutually_exclusive_group()
    new_scope.add_argument("--region", help="region code (inspector, supervisor)")
    new_scope.add_argument("--institution", help="institution code (manager)")
    set_role.set_defaults(func=cmd_update_user)
    policy = sub.add_parser("policy", help="the rules policy (YIBAO_POLICY_FILE)")
    policy_sub = policy.add_subparsers(dest="policy_command", required=True)
    policy_show = policy_sub.add_parser("show", help="print the effective policy as YAML")
    policy_show.add_argument("--file", help="a policy file (default: YIBAO_POLICY_FILE)")
    policy_show.set_defaults(func=cmd_policy_show)
    holidays = sub.add_parser("holidays", help="the official holiday calendar")
    holidays_sub = holidays.add_subparsers(dest="holidays_command", required=True)
    holidays_load = holidays_sub.add_parser(
        "load", help="load a year: YAML with year, holidays and workdays (YYYY-MM-DD)"
    )
    holidays_load.add_argument("file")
    holidays_load.set_defaults(func=cmd_holidays_load)
    from backend.records.commands import add_records_parser

    add_records_parser(sub)
    from backend.backup.commands import add_backup_parser

    add_backup_parser(sub)
    from backend.tracking.commands import add_tracking_parser

    add_tracking_parser(sub)
    from backend.inspections.prune import add_photos_parser

    add_photos_parser(sub)
    revoke = sub.add_parser("revoke-devices", help="sign an account out of every device")
    revoke.add_argument("username")
    revoke.set_defaults(func=cmd_revoke_devices)
    audit = sub.add_parser("audit", help="the chained audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    audit_sub.add_parser(
        "verify", help="check the audit chain (read-only): exit 1 naming the first broken event"
    ).set_defaults(func=cmd_audit_verify)
    audit_sub.add_parser(
        "seal", help="chain pending audit events and sign a checkpoint when due (for cron)"
    ).set_defaults(func=cmd_audit_seal)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``yibao`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
