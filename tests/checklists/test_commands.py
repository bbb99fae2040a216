"""``yibao validate`` and ``yibao score`` as functions: exit codes and what they print."""

from __future__ import annotations

import io
import json
from pathlib import Path

from backend.checklists.commands import score_command, validate_command

CHECKLIST = """\
id: clinic-routine
version: 1
title: 定点诊所日常检查表
applies_to: [clinic, tcm_clinic]
grade_bands:
  - {grade: 优秀, min: 90}
  - {grade: 良好, min: 80}
  - {grade: 合格, min: 60}
  - {grade: 不合格, min: 0}
sections:
  - id: signage
    title: 标识标牌
    weight: 20
    items:
      - id: signage.sign
        text: 悬挂定点医疗机构标识
        fail_when: 未悬挂
        mode: pass_fail
        points: 5
        basis: 《医疗机构医疗保障定点管理暂行办法》
        deadline_days: 15
  - id: records
    title: 台账与记录
    weight: 80
    items:
      - id: records.rx
        text: 处方与结算记录一致
        fail_when: 抽查处方与结算不符
        mode: sample
        points: 10
        basis: 《医疗保障基金使用监督管理条例》第十五条
        deadline_days: 30
      - id: records.identity
        text: 核验参保人身份
        fail_when: 冒名就医
        mode: pass_fail
        points: 10
        critical: true
        basis: 《医疗保障基金使用监督管理条例》第十九条
        deadline_days: 7
"""


def _run_validate(paths: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = validate_command(paths, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _run_score(checklist: Path, findings: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = score_command(str(checklist), str(findings), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def _files(tmp_path: Path, findings: object, checklist: str = CHECKLIST) -> tuple[Path, Path]:
    checklist_path = tmp_path / "clinic-routine.v1.yaml"
    checklist_path.write_text(checklist, encoding="utf-8")
    findings_path = tmp_path / "findings.json"
    text = findings if isinstance(findings, str) else json.dumps(findings)
    findings_path.write_text(text, encoding="utf-8")
    return checklist_path, findings_path


def test_validate_lists_valid_checklists(tmp_path: Path) -> None:
    (tmp_path / "clinic.yaml").write_text(CHECKLIST, encoding="utf-8")
    (tmp_path / "clinic-v2.yaml").write_text(
        CHECKLIST.replace("version: 1", "version: 2"), encoding="utf-8"
    )
    code, out, err = _run_validate([str(tmp_path)])
    assert code == 0
    assert err == ""
    assert "clinic-routine 第 1 版，2 个部分，3 个检查项，sha256:" in out
    assert "clinic-routine 第 2 版" in out
    assert out.rstrip().endswith("2 份检查表有效")


def test_validate_prints_every_problem_and_fails(tmp_path: Path) -> None:
    broken = CHECKLIST.replace("points: 5", "pionts: 5").replace("mode: sample", "mode: sampel")
    path = tmp_path / "broken.yaml"
    path.write_text(broken, encoding="utf-8")
    (tmp_path / "ok.yaml").write_text(
        CHECKLIST.replace("version: 1", "version: 9"), encoding="utf-8"
    )
    code, out, err = _run_validate([str(tmp_path)])
    assert code == 1
    assert out == ""
    lines = err.splitlines()
    assert (
        f"{path}: sections[0].items[0].pionts: 未知的键 'pionts'（是否应为 'points'？） (line 19)"
        in lines
    )
    assert f"{path}: sections[0].items[0].points: 必填项缺失：应填写 'points' (line 15)" in lines
    assert (
        f"{path}: sections[1].items[0].mode: "
        "mode 取值应为以下之一：pass_fail、deduct、sample，实际为 'sampel' (line 29)"
    ) in lines
    assert lines[-1] == "共 3 处问题，涉及 1 个文件；1 份检查表有效"


def test_validate_without_paths_or_with_a_missing_path_fails(tmp_path: Path) -> None:
    assert _run_validate([]) == (1, "", "未指定检查表文件或目录\n")
    code, _, err = _run_validate([str(tmp_path / "nope")])
    assert code == 1
    assert f"{tmp_path / 'nope'}: 文件或目录不存在" in err


def test_score_prints_the_result_as_json(tmp_path: Path) -> None:
    findings = [
        {"item": "signage.sign", "result": "pass"},
        {"item": "records.rx", "result": "fail", "sampled": 8, "failed": 2},
        {"item": "records.identity", "result": "pass"},
    ]
    code, out, err = _run_score(*_files(tmp_path, findings))
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert {
        "total",
        "grade",
        "grade_reason",
        "sections",
        "critical_failures",
        "failed_items",
        "checklist",
    } <= set(result)
    # signage 1; records (10 × (1 − 2/8) + 10) / 20 = 17.5/20 = 0.875; 100 × (20 + 80 × 0.875) / 100 = 90.0
    assert result["total"] == 90.0
    assert result["grade"] == "优秀"
    assert result["critical_failures"] == []
    assert result["failed_items"] == ["records.rx"]
    assert [section["id"] for section in result["sections"]] == ["signage", "records"]
    assert result["sections"][1]["ratio"] == 0.875
    assert result["checklist"]["id"] == "clinic-routine"
    assert result["checklist"]["content_hash"].startswith("sha256:")
    assert "优秀" in out  # ensure_ascii=False: readable Chinese, not \\u escapes


def test_score_reports_the_veto(tmp_path: Path) -> None:
    findings = [
        {"item": "signage.sign", "result": "pass"},
        {"item": "records.rx", "result": "pass", "sampled": 5, "failed": 0},
        {"item": "records.identity", "result": "fail"},
    ]
    code, out, _ = _run_score(*_files(tmp_path, findings))
    result = json.loads(out)
    assert code == 0
    assert (result["grade"], result["critical_failures"]) == ("不合格", ["records.identity"])
    assert "否决项不符合" in result["grade_reason"]


def test_score_names_every_item_that_cannot_be_scored(tmp_path: Path) -> None:
    findings = [
        {"item": "signage.sign", "result": "pass", "occurrences": 2},
        {"item": "records.rx", "result": "fail", "sampled": 3, "failed": 4},
        {"item": "records.nope", "result": "na"},
    ]
    code, out, err = _run_score(*_files(tmp_path, findings))
    assert code == 1
    assert out == ""
    for item in ("signage.sign", "records.rx", "records.nope", "records.identity"):
        assert f"item '{item}'" in err
    assert err.splitlines()[-1] == "共 4 处问题，未评分"


def test_score_rejects_malformed_findings(tmp_path: Path) -> None:
    code, _, err = _run_score(*_files(tmp_path, '[{"item": "signage.sign", "result": "pass",}]'))
    assert code == 1 and "findings.json: line 1, column" in err and "JSON 格式错误" in err

    code, _, err = _run_score(*_files(tmp_path, {"item": "signage.sign"}))
    assert code == 1 and "检查结果应为 JSON 列表，每个检查项一条" in err

    findings = [
        {"item": "signage.sign", "result": "ok"},
        {"item": "records.rx", "result": "pass", "sampeld": 3},
    ]
    code, _, err = _run_score(*_files(tmp_path, findings))
    assert code == 1
    assert (
        "findings[0].result: result 取值应为以下之一：pass、fail、na，实际为 'ok'"
        "（检查项 'signage.sign'）" in err
    )
    assert (
        "findings[1].sampeld: 未知的键 'sampeld'（是否应为 'sampled'？）（检查项 'records.rx'）"
        in err
    )


def test_score_refuses_an_invalid_checklist(tmp_path: Path) -> None:
    checklist, findings = _files(
        tmp_path, [], checklist=CHECKLIST.replace("weight: 20", "weight: 0")
    )
    code, out, err = _run_score(checklist, findings)
    assert code == 1 and out == ""
    assert "sections[0].weight: weight 应大于 0，实际为 0" in err
    assert f"{checklist}: 检查表无效，未评分" in err


def test_score_with_a_missing_findings_file(tmp_path: Path) -> None:
    checklist, _ = _files(tmp_path, [])
    code, _, err = _run_score(checklist, tmp_path / "absent.json")
    assert code == 1 and "absent.json: 无法读取文件" in err
