"""The ``yibao`` command, run as an administrator would run it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from backend.accounts.tables import User
from backend.audit.tables import AuditEvent
from backend.checklists.tables import ChecklistVersion
from backend.institutions.tables import Institution, Physician, Region
from tests.cli_helpers import run_yibao

CHECKLISTS = Path(__file__).resolve().parent.parent / "checklists"


def _copy_checklist(tmp_path: Path, new_id: str, version: int = 1) -> Path:
    data = yaml.safe_load((CHECKLISTS / "pharmacy-routine.v1.yaml").read_text())
    data["id"], data["version"] = new_id, version
    path = tmp_path / f"{new_id}.v{version}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return path


def test_help_lists_every_command() -> None:
    result = run_yibao("--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "checklists", "score", "demo-data", "create-user"):
        assert command in result.stdout


def test_shipped_checklists_are_valid() -> None:
    result = run_yibao("checklists", "validate")
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_names_every_problem_of_a_broken_file(tmp_path: Path) -> None:
    data = yaml.safe_load((CHECKLISTS / "pharmacy-routine.v1.yaml").read_text())
    data["sections"][1]["items"][0]["mode"] = "dedcut"
    data["sections"][2]["weight"] = 0
    data["sections"][0]["items"][1]["id"] = data["sections"][0]["items"][0]["id"]
    data["colour"] = "blue"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    result = run_yibao("checklists", "validate", str(broken))
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert "sections[1].items[0].mode: mode 取值应为以下之一：pass_fail、deduct、sample" in out
    assert "sections[2].weight: weight 应大于 0，实际为 0" in out
    assert "sections[0].items[1].id: 检查项 id" in out and "重复" in out
    assert "colour: 未知的键 'colour'" in out
    assert "共 4 处问题，涉及 1 个文件" in out


def test_load_is_idempotent_and_refuses_changed_content(database: None, tmp_path: Path) -> None:
    path = _copy_checklist(tmp_path, "cli-load-test")
    first = run_yibao("checklists", "load", str(path))
    assert first.returncode == 0, first.stderr
    assert "cli-load-test v1 已载入（" in first.stdout
    again = run_yibao("checklists", "load", str(path))
    assert again.returncode == 0 and "已载入，内容未变" in again.stdout

    data = yaml.safe_load(path.read_text())
    data["sections"][0]["items"][0]["points"] += 1
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    changed = run_yibao("checklists", "load", str(path))
    assert changed.returncode == 1
    assert "cli-load-test v1" in changed.stderr and "version" in changed.stderr

    data["version"] = 2
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    bumped = run_yibao("checklists", "load", str(path))
    assert bumped.returncode == 0, bumped.stderr


async def test_load_records_one_version_and_one_audit_event(database: None, tmp_path: Path) -> None:
    path = _copy_checklist(tmp_path, "cli-audit-test")
    for _ in range(3):
        assert run_yibao("checklists", "load", str(path)).returncode == 0
    rows = await ChecklistVersion.select().where(ChecklistVersion.checklist_id == "cli-audit-test")
    assert len(rows) == 1
    events = await AuditEvent.select().where(
        (AuditEvent.action == "checklist.load") & (AuditEvent.entity_id == str(rows[0]["id"]))
    )
    assert len(events) == 1 and events[0]["actor_username"] == "cli"


def test_score_prints_the_result_as_json(tmp_path: Path) -> None:
    checklist = yaml.safe_load((CHECKLISTS / "pharmacy-routine.v1.yaml").read_text())
    findings = []
    for section in checklist["sections"]:
        for item in section["items"]:
            if item["mode"] == "sample":
                findings.append({"item": item["id"], "result": "pass", "sampled": 10, "failed": 0})
            else:
                findings.append({"item": item["id"], "result": "pass"})
    path = tmp_path / "findings.json"
    path.write_text(json.dumps(findings))
    result = run_yibao("score", str(CHECKLISTS / "pharmacy-routine.v1.yaml"), str(path))
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["total"] == 100.0
    assert body["grade"] == checklist["grade_bands"][0]["grade"]
    assert body["critical_failures"] == []
    assert {s["id"] for s in body["sections"]} == {s["id"] for s in checklist["sections"]}


def test_score_names_the_bad_item(tmp_path: Path) -> None:
    path = tmp_path / "findings.json"
    path.write_text(json.dumps([{"item": "no.such-item", "result": "pass"}]))
    result = run_yibao("score", str(CHECKLISTS / "pharmacy-routine.v1.yaml"), str(path))
    assert result.returncode != 0
    assert "no.such-item" in result.stderr


async def test_demo_data_is_complete_and_created_once(database: None) -> None:
    first = run_yibao("demo-data")
    assert first.returncode == 0, first.stderr
    second = run_yibao("demo-data")
    assert second.returncode == 0 and "already present" in second.stdout
    assert "inspector" in second.stdout  # the logins are printed each time
    city = await Region.select().where(Region.code == "371000").first()
    counties = await Region.count().where(Region.parent == city["id"])
    assert counties == 3
    types = {r["type"] for r in await Institution.select(Institution.type)}
    assert types == {"hospital", "clinic", "tcm_clinic", "pharmacy"}
    assert await Institution.count() >= 30
    assert await Physician.count() >= 40
    roles = {r["role"] for r in await User.select(User.role)}
    assert roles == {"admin", "supervisor", "inspector", "manager"}


def test_demo_data_is_refused_in_production(database: None) -> None:
    result = run_yibao("demo-data", env={"YIBAO_ENV": "production"})
    assert result.returncode == 1
    assert "生产环境" in result.stderr


async def test_create_user_checks_scope_and_audits(database: None) -> None:
    assert run_yibao("demo-data").returncode == 0
    ok = run_yibao(
        "create-user",
        "cli.inspector",
        "--role",
        "inspector",
        "--region",
        "371003",
        "--password",
        "correct-horse",
    )
    assert ok.returncode == 0, ok.stderr
    user = await User.select().where(User.username == "cli.inspector").first()
    assert user["role"] == "inspector" and user["password_hash"].startswith("$argon2")
    assert await AuditEvent.exists().where(
        (AuditEvent.action == "user.create") & (AuditEvent.entity_id == str(user["id"]))
    )
    cases = [
        (["cli.inspector", "--role", "inspector", "--region", "371003"], "已存在"),
        (["cli.mgr", "--role", "manager", "--region", "371003"], "机构"),
        (["cli.mgr", "--role", "manager", "--institution", "NOPE"], "NOPE"),
        (["cli.insp2", "--role", "inspector", "--region", "999999"], "999999"),
        (["cli.insp3", "--role", "inspector"], "区域"),
        (["x", "--role", "admin"], "用户名"),
        (["cli.short", "--role", "admin"], "密码"),
    ]
    for args, message in cases:
        password = (
            ["--password", "short"] if args[0] == "cli.short" else ["--password", "long-enough-pw"]
        )
        before = await User.count()
        result = run_yibao("create-user", *args, *password)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert message in result.stderr, (args, result.stderr)
        assert await User.count() == before


def test_unknown_role_is_a_usage_error() -> None:
    result = run_yibao("create-user", "someone", "--role", "boss", "--password", "long-enough-pw")
    assert result.returncode == 2
    assert "boss" in result.stderr


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    env = {"YIBAO_DATA_DIR": str(tmp_path)}
    if "YIBAO_DATABASE_URL" in os.environ:
        pytest.skip("needs an empty database; covered by the SQLite run")
    result = run_yibao("demo-data", env=env)
    assert result.returncode == 1
    assert "yibao migrate" in result.stderr
    assert run_yibao("migrate", env=env).returncode == 0
    assert run_yibao("checklists", "load", env=env).returncode == 0
    assert run_yibao("demo-data", env=env).returncode == 0


def test_bad_settings_are_reported() -> None:
    result = run_yibao("migrate", env={"YIBAO_DATABASE_URL": "mysql://x"})
    assert result.returncode == 2
    assert "YIBAO_DATABASE_URL" in result.stderr
    result = run_yibao("migrate", env={"YIBAO_ENV": "production", "YIBAO_SECRET_KEY": ""})
    assert result.returncode == 2
    assert "YIBAO_SECRET_KEY" in result.stderr


async def test_disable_enable_and_re_role_from_the_cli(database: None) -> None:
    assert run_yibao("demo-data").returncode == 0
    created = run_yibao(
        "create-user", "cli.toggle", "--role", "inspector", "--region", "371002",
        "--password", "long-enough-pw",
    )
    assert created.returncode == 0, created.stderr
    disabled = run_yibao("disable-user", "cli.toggle")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    assert (await User.select(User.is_active).where(User.username == "cli.toggle").first()) == {"is_active": False}
    enabled = run_yibao("enable-user", "cli.toggle")
    assert enabled.returncode == 0 and "active" in enabled.stdout
    rerole = run_yibao("set-role", "cli.toggle", "--role", "manager", "--institution", "P37100200001")
    assert rerole.returncode == 0, rerole.stderr
    row = await User.select(User.role, User.region, User.institution.code).where(User.username == "cli.toggle").first()
    assert row == {"role": "manager", "region": None, "institution.code": "P37100200001"}
    bad = run_yibao("set-role", "cli.toggle", "--role", "inspector")
    assert bad.returncode == 1 and "区域" in bad.stderr
    assert run_yibao("disable-user", "nobody.here").returncode == 1
    revoked = run_yibao("revoke-devices", "cli.toggle")
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    events = await AuditEvent.select(AuditEvent.action).where(AuditEvent.actor_username == "cli")
    assert sum(e["action"] == "user.update" for e in events) >= 3
