// Words and numbers as the inspector reads them (简体中文, 24-hour clock, tabular figures in CSS).

export const STATE_LABELS = {
  draft: "草稿", queued: "待同步", syncing: "同步中", synced: "已同步", rejected: "被退回",
};
export const RESULT_LABELS = { pass: "符合", fail: "不符合", na: "不适用" };
export const TYPE_LABELS = {
  hospital: "定点医院", clinic: "定点诊所", tcm_clinic: "中医诊所", pharmacy: "定点零售药店",
};
export const AGREEMENT_LABELS = { normal: "正常", suspended: "中止", terminated: "解除" };

const pad = (n) => String(n).padStart(2, "0");

/** "2026-11-22" (a local calendar day) for a Date. */
export function isoDay(date = new Date()) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** "11月22日" from "2026-11-22" (with the year when it is not this year). */
export function dayLabel(day) {
  if (!day) return "";
  const [y, m, d] = String(day).slice(0, 10).split("-").map(Number);
  const year = new Date().getFullYear();
  return `${y !== year ? `${y}年` : ""}${m}月${d}日`;
}

/** "11月22日 – 11月25日". */
export function windowLabel(start, end) {
  if (!start) return "";
  if (!end || start === end) return dayLabel(start);
  return `${dayLabel(start)} – ${dayLabel(end)}`;
}

/** Whole days from today to a day ("2026-11-25"): negative in the past. */
export function daysFromToday(day) {
  const [y, m, d] = String(day).slice(0, 10).split("-").map(Number);
  const target = new Date(y, m - 1, d);
  const now = new Date();
  const today = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  return Math.round((target - today) / 86400000);
}

/** A moment as people say it: 刚刚 / 5 分钟前 / 今天 14:05 / 昨天 09:30 / 11月20日 09:30. */
export function momentLabel(value) {
  if (!value) return "从未";
  const date = typeof value === "number" ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  const diff = Date.now() - date.getTime();
  if (diff >= 0 && diff < 60_000) return "刚刚";
  if (diff >= 0 && diff < 3_600_000) return `${Math.floor(diff / 60_000)} 分钟前`;
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const days = -daysFromToday(isoDay(date));
  if (days === 0) return `今天 ${time}`;
  if (days === 1) return `昨天 ${time}`;
  return `${dayLabel(isoDay(date))} ${time}`;
}

/** A score with one decimal ("86.4"), or "—". */
export function scoreLabel(total) {
  if (total === null || total === undefined || Number.isNaN(Number(total))) return "—";
  return Number(total).toFixed(1);
}

/** CSS modifier of a grade. */
export function gradeClass(grade) {
  return { 优秀: "grade-a", 良好: "grade-b", 合格: "grade-c", 不合格: "grade-d" }[grade] || "grade-none";
}

/** Bytes as "1.2 MB". */
export function bytesLabel(bytes) {
  if (!Number.isFinite(bytes)) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
