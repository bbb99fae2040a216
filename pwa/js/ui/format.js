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

/**
 * CSS modifier of a grade by its name (the v1 names). For screens that have no checklist at hand;
 * where the checklist is known use gradeBandClass, which follows the checklist's own bands.
 */
export function gradeClass(grade) {
  return { 优秀: "grade-a", 良好: "grade-b", 合格: "grade-c", 不合格: "grade-d" }[grade] || "grade-none";
}

/**
 * The colour class of a grade by its place in the checklist's bands (highest first): the top
 * band grade-a, the lowest grade-d, those between grade-b / grade-c; whatever the names are.
 */
export function gradeBandClass(content, grade) {
  const bands = (content && content.grade_bands) || [];
  const at = bands.findIndex((b) => b.grade === grade);
  if (at < 0) return "grade-none";
  if (at === bands.length - 1) return bands.length === 1 ? "grade-a" : "grade-d";
  if (at === 0) return "grade-a";
  return at === 1 ? "grade-b" : "grade-c";
}

// --- money (违规金额): exact decimal strings, never a JS float ---------------------------------

// As the server takes it (backend/inspections/sync.py): up to 12 digits of yuan, at most two decimals.
const AMOUNT = /^(\d{1,12})(?:\.(\d{1,2}))?$/;

/**
 * An amount of yuan as typed, normalised to two decimals by string operations ("1234.5" ->
 * "1234.50", "007" -> "7.00"), or null when it is not a non-negative amount with at most two
 * decimals. Full-width digits and 。 (a Chinese keyboard's) are read as their ASCII forms.
 */
export function normalAmount(raw) {
  if (raw === null || raw === undefined) return null;
  const text = String(raw).trim()
    .replace(/[\uff10-\uff19]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[。．]/g, ".");
  const m = AMOUNT.exec(text);
  if (!m) return null;
  return `${m[1].replace(/^0+(?=\d)/, "")}.${(m[2] || "").padEnd(2, "0")}`;
}

/** Whole fen (分) of a normalised amount, as a BigInt (exact whatever the size). */
export const amountFen = (amount) => BigInt(normalAmount(amount).replace(".", ""));

/** The sum of normalised amounts, itself a normalised amount ("0.00" for none): added in fen. */
export function sumAmounts(amounts) {
  const fen = amounts.reduce((total, a) => total + amountFen(a), 0n);
  const text = fen.toString().padStart(3, "0");
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

/** "1,234.50 元" from a normalised amount (digits grouped by thousands, as on a notice). */
export function amountLabel(amount) {
  // A total may pass the 12 digits one amount may have: only its form is checked here.
  const [yuan, fen] = (normalAmount(amount) || String(amount)).split(".");
  return `${yuan.replace(/\B(?=(\d{3})+$)/g, ",")}.${fen} 元`;
}

/** Bytes as "1.2 MB". */
export function bytesLabel(bytes) {
  if (!Number.isFinite(bytes)) return "—";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
}
