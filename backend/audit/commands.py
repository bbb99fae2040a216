"""``yibao audit verify`` and ``yibao audit seal``: the console side of the audit chain."""

from __future__ import annotations

from backend.audit.chain import verify
from backend.audit.sealer import seal

MAX_LINES = 20


async def verify_command() -> int:
    """Check the chain without writing. Exit 0 when it holds (unsealed events are only
    reported), 1 naming the first broken event (id and time) and the others after it."""
    report = await verify()
    pending = ""
    if report.unsealed:
        first_id, first_at = report.oldest_unsealed or (0, "")
        pending = f"；{report.unsealed} 个事件尚未封存（最早为 #{first_id}，{first_at}）"
    if report.ok:
        print(
            f"审计链完好：{report.sealed} 个事件已封存，链头序号 {report.head_seq}，"
            f"哈希 {report.head_hash[:16]}…，{report.checkpoints} 个检查点签名有效{pending}"
        )
        return 0
    first = report.problems[0]
    print(f"审计链断裂：第一个断点为 {first.line()}")
    for problem in report.problems[1:MAX_LINES]:
        print(f"  另有 {problem.line()}")
    if len(report.problems) > MAX_LINES:
        print(f"  ……共 {len(report.problems)} 处")
    print(f"（已封存 {report.sealed} 个事件{pending}）")
    return 1


async def seal_command() -> int:
    """Chain pending events and sign a checkpoint when due (for cron; the server does it too)."""
    report = await seal()
    if report.skipped:
        print("另一进程正在封存，本次跳过")
        return 0
    signed = "，已签署新检查点" if report.checkpoint else ""
    print(
        f"已封存 {report.sealed} 个事件，链头序号 {report.head_seq}{signed}，"
        f"用时 {report.seconds:.3f} 秒"
    )
    return 0
