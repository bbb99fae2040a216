"""The arithmetic of docs/scaling.md: rows, photo terabytes, the morning peak and the workers it
needs, from the assumptions and measured rates below. Change a number here, rerun, paste.

Run: .venv/bin/python bench/scaling_model.py
"""

from __future__ import annotations

import math

# --- Measured rates (docs/benchmarks.md, bench/photo_bench.py). Update them here. ----------------
PUSH_FINDINGS_PER_S_PER_WORKER = 24 * 62  # PostgreSQL, 1 worker: 24 submissions/s (22–26 measured) of 62 findings (scoring, notice, seal)
PHOTO_CPU_S = 0.150  # process_image of a 430 KB phone photo, median (bench/photo_bench.py)
PHOTO_STORED_KB = 427 + 11  # display image + thumbnail, as stored (bench/photo_bench.py)
BACKUP_MB_PER_S = 120  # yibao backup / restore, plain .tar (bench/backup_bench.py)

# --- Assumptions (docs/scaling.md says why). ---------------------------------------------------
INSPECTIONS_PER_INSTITUTION_YEAR = 2
FINDINGS_PER_INSPECTION = 100  # checklists have 50–150 items
REVISIONS_PER_FINDING = 1.5  # drafts synced while working, then the submission
AUDIT_EVENTS_PER_INSPECTION = 30  # assignment, pushes, uploads, submission, seal, notice…
EVIDENCE_PHOTOS_PER_INSPECTION = 10
SIGNATURES_PER_INSPECTION = 3
SIGNATURE_KB = 10
NOTICE_SHARE = 0.4  # inspections that find something and issue a 整改通知书
TASKS_PER_NOTICE = 3
PHOTOS_PER_TASK_ANSWER = 2
EVENTS_PER_TASK = 4  # issued, answered, accepted/returned, comments
BYTES_PER_ROW = 300  # row plus its indexes, PostgreSQL
WORKING_DAYS = 250
PENDING_PER_TABLET = 3  # inspections a tablet holds unsynced after a holiday (worst case)
PEAK_WINDOW_S = 10 * 60  # the tablets come online between 08:30 and 08:40
PEAK_FACTOR = 3  # the busiest minute against the window's average
CPU_TARGET = 0.6  # size workers to run at 60 % at the peak
DRAIN_WINDOW_S = 30 * 60  # alternative: let uploads queue and drain within 30 minutes

SCALES = {
    "province": {"institutions": 10_000, "inspectors": 500},
    # 1.1 million designated institutions; inspectors in the province's proportion.
    "country": {"institutions": 1_100_000, "inspectors": 500 * 110},
}


def model(institutions: int, inspectors: int) -> dict[str, float]:
    """Every derived figure for one scale."""
    inspections = institutions * INSPECTIONS_PER_INSTITUTION_YEAR
    findings = inspections * FINDINGS_PER_INSPECTION
    revisions = findings * REVISIONS_PER_FINDING
    audit = inspections * AUDIT_EVENTS_PER_INSPECTION
    photos = inspections * (EVIDENCE_PHOTOS_PER_INSPECTION + SIGNATURES_PER_INSPECTION)
    notices = inspections * NOTICE_SHARE
    tasks = notices * TASKS_PER_NOTICE
    task_photos = tasks * PHOTOS_PER_TASK_ANSWER
    rows = findings + revisions + audit + photos + task_photos + notices + tasks * (1 + EVENTS_PER_TASK) + inspections
    photo_bytes = 1024 * (
        inspections * EVIDENCE_PHOTOS_PER_INSPECTION * PHOTO_STORED_KB
        + inspections * SIGNATURES_PER_INSPECTION * SIGNATURE_KB
        + task_photos * PHOTO_STORED_KB
    )
    pending = inspectors * PENDING_PER_TABLET
    uploads = pending * (EVIDENCE_PHOTOS_PER_INSPECTION + SIGNATURES_PER_INSPECTION)
    pushes_peak = pending / PEAK_WINDOW_S * PEAK_FACTOR
    uploads_peak = uploads / PEAK_WINDOW_S * PEAK_FACTOR
    push_cpu = pushes_peak * FINDINGS_PER_INSPECTION / PUSH_FINDINGS_PER_S_PER_WORKER
    photo_cpu = uploads_peak * PHOTO_CPU_S
    drained_cpu = (pending * FINDINGS_PER_INSPECTION / PUSH_FINDINGS_PER_S_PER_WORKER
                   + uploads * PHOTO_CPU_S) / DRAIN_WINDOW_S
    return {
        "inspections": inspections,
        "per_day": inspections / WORKING_DAYS,
        "rows": rows,
        "findings": findings,
        "db_gb": rows * BYTES_PER_ROW / 1e9,
        "photo_tb": photo_bytes / 1e12,
        "photo_gb_day": photo_bytes / WORKING_DAYS / 1e9,
        "pending": pending,
        "uploads": uploads,
        "pushes_peak": pushes_peak,
        "uploads_peak": uploads_peak,
        "workers_push": math.ceil(push_cpu / CPU_TARGET),
        "workers_peak": math.ceil((push_cpu + photo_cpu) / CPU_TARGET),
        "workers_drained": math.ceil(drained_cpu / CPU_TARGET),
        "backup_h_year": (rows * BYTES_PER_ROW + photo_bytes) / (BACKUP_MB_PER_S * 1e6) / 3600,
    }


def main() -> None:
    results = {name: model(**scale) for name, scale in SCALES.items()}
    rows = [
        ("inspections a year", "inspections", "{:,.0f}"),
        ("inspections a working day", "per_day", "{:,.0f}"),
        ("rows a year (all tables)", "rows", "{:,.0f}"),
        ("  of which findings", "findings", "{:,.0f}"),
        ("database growth a year (GB)", "db_gb", "{:,.1f}"),
        ("photos a year (TB)", "photo_tb", "{:,.2f}"),
        ("photos a working day (GB)", "photo_gb_day", "{:,.1f}"),
        ("morning after a holiday: pushes waiting", "pending", "{:,.0f}"),
        ("  photo uploads waiting", "uploads", "{:,.0f}"),
        ("  peak pushes per second", "pushes_peak", "{:,.1f}"),
        ("  peak photo uploads per second", "uploads_peak", "{:,.1f}"),
        ("workers for the pushes alone", "workers_push", "{:,.0f}"),
        ("workers for pushes + photos at the peak", "workers_peak", "{:,.0f}"),
        ("workers with uploads drained over 30 min", "workers_drained", "{:,.0f}"),
        ("one year's data at the backup rate (hours)", "backup_h_year", "{:,.1f}"),
    ]
    print("| | " + " | ".join(results) + " |")
    print("|---|" + "---|" * len(results))
    for label, key, fmt in rows:
        print(f"| {label} | " + " | ".join(fmt.format(r[key]) for r in results.values()) + " |")


if __name__ == "__main__":
    main()
