"""The scoring engine's problem messages (English, for checklist authors and the CLI) in the
Chinese an inspector reads on the tablet when a push is refused."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

_ITEM = re.compile(r"^item '(?P<id>[^']+)'(?: \(section '[^']+'\))?: (?P<rest>.*)$", re.S)
_KEYS = {"occurrences": "发现处数", "sampled": "抽查数", "failed": "不符合数", "population": "总份数"}
_RESULTS = {"pass": "符合", "fail": "不符合", "na": "不适用"}

_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"no such item in checklist"), lambda m: "检查表中没有此检查项"),
    (re.compile(r"answered more than once"), lambda m: "重复作答，每项只能有一个答案"),
    (
        re.compile(r"(?P<key>\w+) must not be negative, got (?P<value>-?\d+)"),
        lambda m: f"{_KEYS.get(m['key'], m['key'])}不能为负数（填写了 {m['value']}）",
    ),
    (
        re.compile(r"(?P<key>\w+) is not used by a \w+ item"),
        lambda m: f"该检查项不填写{_KEYS.get(m['key'], m['key'])}",
    ),
    (re.compile(r"occurrences given on a \w+ answer"), lambda m: "只有「不符合」才填写发现处数"),
    (
        re.compile(r"occurrences on a fail must be at least 1"),
        lambda m: "「不符合」的发现处数至少为 1",
    ),
    (
        re.compile(r"(?P<key>\w+) given on an na answer"),
        lambda m: f"「不适用」不填写{_KEYS.get(m['key'], m['key'])}",
    ),
    (re.compile(r"a sample item answered \w+ needs"), lambda m: "抽查项须填写抽查数和不符合数"),
    (re.compile(r"sampled must be at least 1"), lambda m: "抽查数至少为 1；未抽查请选「不适用」"),
    (
        re.compile(r"failed \((?P<failed>\d+)\) cannot exceed sampled \((?P<sampled>\d+)\)"),
        lambda m: f"不符合数（{m['failed']}）不能大于抽查数（{m['sampled']}）",
    ),
    (
        re.compile(r"answered pass but (?P<failed>\d+) of (?P<sampled>\d+) sampled records failed"),
        lambda m: f"抽查 {m['sampled']} 份中 {m['failed']} 份不符合，结果应为「不符合」",
    ),
    (
        re.compile(r"answered fail but no sampled record failed"),
        lambda m: "不符合数为 0，结果应为「符合」",
    ),
    (
        re.compile(r"sampled \((?P<sampled>\d+)\) cannot exceed population \((?P<population>\d+)\)"),
        lambda m: f"抽查数（{m['sampled']}）不能大于总份数（{m['population']}）",
    ),
    (
        re.compile(r"sampled \((?P<sampled>\d+)\) is below the minimum sample of (?P<min>\d+)"),
        lambda m: f"抽查数（{m['sampled']}）少于最低抽查数 {m['min']} 份；"
        "请继续抽查，或在总份数不足时填写总份数并全部检查",
    ),
    (
        re.compile(
            r"(?P<sampled>\d+) of (?P<population>\d+) records checked, below the minimum sample "
            r"of (?P<min>\d+)"
        ),
        lambda m: f"总份数 {m['population']} 份只抽查了 {m['sampled']} 份，少于最低抽查数 "
        f"{m['min']} 份时应全部检查（抽查数等于总份数）",
    ),
    (re.compile(r"no answer; an incomplete inspection"), lambda m: "尚未作答"),
]


def zh_problem(message: str, titles: Mapping[str, str]) -> str:
    """One engine message in Chinese, naming the item by its wording and id; unknown messages
    are returned unchanged (never dropped)."""
    matched = _ITEM.match(message)
    if matched is None:
        return message
    for pattern, render in _RULES:
        found = pattern.search(matched["rest"])
        if found:
            item_id = matched["id"]
            title = titles.get(item_id)
            name = (
                f"检查项「{title[:24]}{'…' if len(title) > 24 else ''}」（{item_id}）"
                if title
                else f"检查项 {item_id}"
            )
            return f"{name}：{render(found)}"
    return message
