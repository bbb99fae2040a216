// What the screens read and write in IndexedDB: assignments with their institution and checklist,
// the local inspection, its findings, photos and signatures. No DOM here.
//
// Every change is written at once (autosave): a finding and its inspection's revision in one
// Dexie transaction (docs/pwa.md). Writes to the same record are serialised and coalesced, so a
// burst of keystrokes in 说明 costs a few transactions, never a lost or reordered write.
import { db, getMeta } from "../db.js";
import { emit } from "../events.js";
import { validateAnswers } from "../scoring.js";
import { normalAmount } from "../ui/format.js";

/** Rejections that no edit can fix (the assignment is gone, or the server has it already). */
export const FINAL_REJECTIONS = new Set(["cancelled", "not_found", "id_conflict", "locked"]);

/**
 * A new record id: a UUID version 7 (RFC 9562), the millisecond it was made, then 74 random bits
 * (as the server makes its own, backend/ids.py). Ids made one after another sort together, so the
 * server's indexes on them grow at one end instead of all over; the random bits keep ids of two
 * tablets apart. getRandomValues works outside a secure context too.
 */
export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let ms = Date.now();
  for (let i = 5; i >= 0; i -= 1) {
    b[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

const nowIso = () => new Date().toISOString();

/** Whether the inspector may still change this inspection on the tablet. */
export const isEditable = (inspection) => !!inspection && (inspection.state === "draft"
  || (inspection.state === "rejected" && !(inspection.rejection && FINAL_REJECTIONS.has(inspection.rejection.code))));

// --- reading -------------------------------------------------------------------------------

/** The signed-in session (or null). */
export async function currentSession() {
  return (await getMeta("session")) || null;
}

/** An assignment with its institution, checklist version and physicians, or null. */
export async function loadAssignment(assignmentId) {
  const assignment = await db.assignments.get(assignmentId);
  if (!assignment) return null;
  const institutionId = assignment.institution_id || (assignment.institution && assignment.institution.id);
  const [institution, checklist, physicians] = await Promise.all([
    db.institutions.get(institutionId),
    db.checklists.get(assignment.checklist && assignment.checklist.version_id),
    db.physicians.where("institution_id").equals(institutionId).toArray(),
  ]);
  return {
    assignment,
    institution: institution || { ...(assignment.institution || {}), id: institutionId },
    checklist: checklist || null,
    physicians: physicians.sort((a, b) => a.name.localeCompare(b.name, "zh-CN")),
  };
}

/** The local inspection of an assignment (one per assignment), or null. */
export async function inspectionOfAssignment(assignmentId) {
  const rows = await db.inspections.where("assignment_id").equals(assignmentId).toArray();
  rows.sort((a, b) => (b.updated_at || 0) - (a.updated_at || 0));
  return rows[0] || null;
}

/** Everything the form, signing and submitting screens need, or null when unknown here. */
export async function loadInspection(inspectionId) {
  const inspection = await db.inspections.get(inspectionId);
  if (!inspection) return null;
  const context = await loadAssignment(inspection.assignment_id);
  let checklist = await db.checklists.get(inspection.checklist_version_id);
  if (!checklist && context) checklist = context.checklist;
  const [findings, photos] = await Promise.all([
    db.findings.where("inspection_id").equals(inspectionId).toArray(),
    db.photos.where("inspection_id").equals(inspectionId).toArray(),
  ]);
  const physicians = context ? context.physicians
    : await db.physicians.where("institution_id").equals(inspection.institution_id).toArray();
  return {
    inspection,
    assignment: context ? context.assignment : null,
    institution: (context && context.institution) || (await db.institutions.get(inspection.institution_id)) || {},
    checklist,
    content: checklist ? checklist.content : null,
    findings: new Map(findings.map((f) => [f.item, f])),
    photos,
    physicians,
  };
}

/** The institution a QR token belongs to (within this device's bundle), or null. */
export async function institutionByToken(token) {
  return (await db.institutions.where("qr_token").equals(token).first()) || null;
}

/** Open assignments of an institution on this device (not done, not cancelled), soonest first. */
export async function openAssignmentsOf(institutionId) {
  const rows = await db.assignments.where("institution_id").equals(institutionId).toArray();
  return rows
    .filter((a) => a.status !== "done" && a.status !== "cancelled")
    .sort((a, b) => String(a.window_start).localeCompare(String(b.window_start)));
}

// --- answers: completeness and progress ----------------------------------------------------

const isCount = (v) => Number.isInteger(v) && v >= 0;

/**
 * Where an item's answer stands: {state: "none" | "done" | "incomplete", problem}.
 * "incomplete" answers are kept (nothing typed is ever thrown away) but block submission.
 */
export function answerStatus(item, finding) {
  if (!finding || !finding.result) return { state: "none", problem: "未作答" };
  if (finding.result === "na") return { state: "done", problem: null };
  if (item.mode === "deduct" && finding.result === "fail") {
    if (finding.occurrences !== null && finding.occurrences !== undefined
        && !(Number.isInteger(finding.occurrences) && finding.occurrences >= 1)) {
      return { state: "incomplete", problem: "发现处数至少为 1" };
    }
  }
  if (item.mode === "sample") {
    const problem = sampleProblem(item, finding);
    if (problem) return { state: "incomplete", problem };
  }
  // The preliminary score drops what scoring.js refuses: whatever the checks above don't word
  // yet still counts as incomplete, never as done and left out of the score.
  const refused = validateAnswers({ id: "", version: 0, sections: [{ items: [item] }] }, [answerOf(item, finding)], false);
  if (refused.length) return { state: "incomplete", problem: "本项的填写不符合计分规则，请核对" };
  return { state: "done", problem: null };
}

/** A sample item's minimum sample (`min_sampled`), or null when the checklist sets none. */
export const minSampled = (item) => (Number.isInteger(item.min_sampled) ? item.min_sampled : null);

/**
 * Why a sample answer (pass or fail) is not complete, in Chinese, or null. The same rules as
 * scoring.js: a sample below the item's minimum counts only when it checked every record the
 * institution had (`population` given and `sampled` = `population`).
 */
function sampleProblem(item, finding) {
  const { sampled, failed } = finding;
  const population = finding.population ?? null;
  const min = minSampled(item);
  if (!isCount(sampled) || sampled < 1) return "请填写抽查数（至少 1）";
  if (!isCount(failed)) return "请填写不符合数";
  if (failed > sampled) return "不符合数不能大于抽查数";
  if (population !== null && !isCount(population)) return "总份数应为整数";
  if (population !== null && sampled > population) return `抽查数（${sampled}）不能大于总份数（${population}）`;
  if (min !== null && sampled < min) {
    if (population === null) {
      return `抽查数少于最低抽查数 ${min} 份：请抽足 ${min} 份；机构实有记录不足 ${min} 份时，填写总份数并全部检查`;
    }
    if (sampled !== population) {
      return `总份数 ${population} 份只抽查了 ${sampled} 份：不足 ${min} 份时须全部检查（抽查数应等于总份数）`;
    }
  }
  if ((failed > 0) !== (finding.result === "fail")) {
    return failed > 0 ? "不符合数大于 0，结果应为不符合" : "不符合数为 0，结果应为符合";
  }
  return null;
}

/** An answered finding in the scoring input shape (only the counts its item's mode takes). */
function answerOf(item, finding) {
  const answer = { item: item.id, result: finding.result };
  if (item.mode === "deduct" && finding.result === "fail" && finding.occurrences != null) {
    answer.occurrences = finding.occurrences;
  }
  if (item.mode === "sample" && finding.result !== "na") {
    answer.sampled = finding.sampled;
    answer.failed = finding.failed;
    if (finding.population != null) answer.population = finding.population;
  }
  return answer;
}

/** The checklist's lowest grade band (the grade a 否决项 failure gives), e.g. 不合格. */
export function lowestGrade(content) {
  const bands = (content && content.grade_bands) || [];
  return bands.length ? bands[bands.length - 1].grade : null;
}

// The colour of a grade by its place in the checklist's bands lives with the other words and
// numbers (ui/format.js), so that screens without this module colour grades the same way.
export { gradeBandClass } from "../ui/format.js";

/**
 * Why a failed monetary item's 违规金额 stops a submission, in Chinese, or null. The server takes
 * a failed finding without an amount; the app asks for one, since a failed monetary item
 * carries the fund money involved (the notice's 追回 amounts come from it).
 */
export function amountProblem(item, finding) {
  if (!item.monetary || !finding || finding.result !== "fail") return null;
  const raw = finding.amount === null || finding.amount === undefined ? "" : String(finding.amount).trim();
  if (!raw) return "请填写违规金额（元）";
  if (normalAmount(raw) === null) return AMOUNT_HINT;
  return null;
}

/** The hint under a 违规金额 the server would refuse. */
export const AMOUNT_HINT = "违规金额须为不小于 0 的金额（元），最多两位小数，如 1234.50";

/** Whether the checklist asks for a photo of this answer, and whether it has one. */
export function photoRequirement(item, finding) {
  const result = finding && finding.result;
  // As the server checks it: N/A never needs a photo.
  const required = !!result && result !== "na"
    && (item.evidence === "photo_always" || (item.evidence === "photo_on_fail" && result === "fail"));
  const have = finding && finding.photo_ids ? finding.photo_ids.length : 0;
  return { required, have };
}

/** Answered / total and 不符合 count per section and overall. */
export function progressOf(content, findings) {
  const sections = {};
  let answered = 0;
  let total = 0;
  let failed = 0;
  for (const section of content.sections) {
    const s = { answered: 0, total: section.items.length, failed: 0, incomplete: 0 };
    for (const item of section.items) {
      const finding = findings.get(item.id);
      const status = answerStatus(item, finding);
      if (status.state === "done") s.answered += 1;
      if (status.state === "incomplete") s.incomplete += 1;
      if (finding && finding.result === "fail") s.failed += 1;
    }
    sections[section.id] = s;
    answered += s.answered;
    total += s.total;
    failed += s.failed;
  }
  return { answered, total, failed, percent: total ? Math.round((answered * 100) / total) : 0, sections };
}

/** The answers the preliminary score can use (complete ones only), in the scoring input shape. */
export function scoringAnswers(content, findings) {
  const answers = [];
  for (const section of content.sections) {
    for (const item of section.items) {
      const finding = findings.get(item.id);
      if (answerStatus(item, finding).state !== "done") continue;
      answers.push(answerOf(item, finding));
    }
  }
  return answers;
}

/** The "#/inspect/…" address of an item. */
export const itemHref = (inspectionId, sectionId, itemId) =>
  `#/inspect/${inspectionId}/${encodeURIComponent(sectionId)}${itemId ? `/${encodeURIComponent(itemId)}` : ""}`;

/**
 * What still stops a submission, each with where to fix it:
 * [{kind: "unanswered" | "incomplete" | "amount" | "photo" | "signature", section, text, href}].
 */
export function missingForSubmit(data) {
  const { inspection, content, findings, assignment } = data;
  const missing = [];
  for (const section of content.sections) {
    for (const item of section.items) {
      const finding = findings.get(item.id);
      const status = answerStatus(item, finding);
      const href = itemHref(inspection.id, section.id, item.id);
      if (status.state === "none") {
        missing.push({ kind: "unanswered", section: section.title, text: item.text, href, item: item.id });
      } else if (status.state === "incomplete") {
        missing.push({ kind: "incomplete", section: section.title, text: item.text, detail: status.problem, href, item: item.id });
      }
      const money = amountProblem(item, finding);
      if (money) {
        missing.push({ kind: "amount", section: section.title, text: item.text, detail: money, href, item: item.id });
      }
      const photos = photoRequirement(item, finding);
      if (status.state !== "none" && photos.required && photos.have === 0) {
        missing.push({ kind: "photo", section: section.title, text: item.text,
          detail: item.evidence === "photo_always" ? "本项须拍摄佐证照片" : "不符合项须拍摄佐证照片", href, item: item.id });
      }
    }
  }
  const signHref = `#/sign/${inspection.id}`;
  const signatures = inspection.signatures || [];
  const refused = (inspection.signature_refused_reason || "").trim();
  const repSigned = signatures.some((s) => s.signer === "representative");
  if (!repSigned && !refused) {
    missing.push({ kind: "signature", text: "被检查单位负责人签字", detail: "请负责人签字，或记录拒绝签字及原因", href: signHref });
  } else if (repSigned && !(inspection.representative_name || "").trim()) {
    missing.push({ kind: "signature", text: "被检查单位负责人姓名", detail: "请填写签字负责人的姓名", href: signHref });
  }
  // 条例第二十九条: not fewer than two inspectors, each signing for themself (the server refuses
  // a submission with fewer; saying so here keeps it from waiting in the queue to be refused).
  const team = assignment ? assignment.inspectors || [] : null;
  const signed = new Set(signatures.filter((s) => s.signer === "inspector"
    && (!team || team.some((p) => p.id === s.user_id))).map((s) => s.user_id));
  if (signed.size < 2) {
    const unsigned = team ? team.filter((p) => !signed.has(p.id)).map((p) => p.display_name).join("、") : "";
    missing.push({ kind: "signature", text: "检查人员签字",
      detail: `须至少两名检查人员分别签字（条例第二十九条），已签 ${signed.size} 名${unsigned ? `；未签：${unsigned}` : ""}`, href: signHref });
  }
  return missing;
}

// --- writing -------------------------------------------------------------------------------

// Serialised, coalescing writes per key: while one write runs, later patches merge into the next.
const writers = new Map();

function queueWrite(key, patch, write) {
  let w = writers.get(key);
  if (!w) writers.set(key, (w = { running: null, next: null }));
  if (!w.next) {
    const entry = { patch: {}, write };
    entry.promise = new Promise((resolve, reject) => { entry.resolve = resolve; entry.reject = reject; });
    w.next = entry;
  }
  Object.assign(w.next.patch, patch);
  w.next.write = write;
  const { promise } = w.next;
  if (!w.running) w.running = pump(key, w);
  return promise;
}

async function pump(key, w) {
  while (w.next) {
    const entry = w.next;
    w.next = null;
    try {
      entry.resolve(await entry.write(entry.patch));
    } catch (error) {
      entry.reject(error);
    }
  }
  w.running = null;
  writers.delete(key);
}

/** Wait until every queued write has reached IndexedDB. */
export async function flushWrites() {
  while (writers.size) {
    await Promise.allSettled([...writers.values()].map((w) => w.running).filter(Boolean));
  }
}

async function touchInspection(inspectionId, patch = {}) {
  const inspection = await db.inspections.get(inspectionId);
  if (!inspection) throw new Error("检查记录不存在");
  if (!isEditable(inspection)) throw new Error("本检查已提交，不能再修改");
  const next = {
    ...inspection,
    ...patch,
    client_revision: (inspection.client_revision || 0) + 1,
    client_updated_at: nowIso(),
    updated_at: Date.now(),
  };
  await db.inspections.put(next);
  return next;
}

/**
 * Create the local inspection of an assignment, or return the one already here
 * (one per assignment). Pins the checklist version, id and hash the form will use.
 */
export async function startInspection(assignmentId) {
  return db.transaction("rw", db.inspections, db.assignments, db.checklists, async () => {
    const existing = await db.inspections.where("assignment_id").equals(assignmentId).first();
    if (existing) return { inspection: existing, created: false };
    const assignment = await db.assignments.get(assignmentId);
    if (!assignment) throw new Error("本设备上没有这个检查任务，请联网同步后再试");
    const ref = assignment.checklist || {};
    const checklist = await db.checklists.get(ref.version_id);
    if (!checklist) throw new Error("本设备上缺少这份检查表，请联网同步后再试");
    const now = nowIso();
    const inspection = {
      id: uuid(),
      assignment_id: assignment.id,
      institution_id: assignment.institution_id || assignment.institution.id,
      checklist_version_id: checklist.version_id,
      checklist_id: checklist.checklist_id,
      checklist_version: checklist.version,
      checklist_hash: checklist.content_hash,
      state: "draft",
      started_at: now,
      client_updated_at: now,
      updated_at: Date.now(),
      client_revision: 1,
      representative_name: "",
      signature_refused_reason: "",
      note: "",
      signatures: [],
      submitted_at: null,
      rejection: null,
      server: null,
    };
    await db.inspections.add(inspection);
    return { inspection, created: true };
  });
}

/**
 * Save an item's answer (merging `patch` into the stored finding) and bump the inspection's
 * revision, in one transaction. Resolves with the stored finding.
 */
export function saveFinding(inspectionId, itemId, patch) {
  return queueWrite(`f:${inspectionId}:${itemId}`, patch, (merged) =>
    db.transaction("rw", db.findings, db.inspections, async () => {
      const existing = await db.findings.where("[inspection_id+item]").equals([inspectionId, itemId]).first();
      const finding = {
        id: uuid(), inspection_id: inspectionId, item: itemId, result: null,
        occurrences: null, sampled: null, failed: null, population: null, note: "", physician_id: null, photo_ids: [],
        client_revision: 0,
        ...existing,
        ...merged,
      };
      finding.client_revision = ((existing && existing.client_revision) || 0) + 1;
      finding.client_updated_at = nowIso();
      await touchInspection(inspectionId);
      await db.findings.put(finding);
      return finding;
    }));
}

/** Save inspection-level fields (representative name, refusal reason, note). */
export function updateInspection(inspectionId, patch) {
  return queueWrite(`i:${inspectionId}`, patch, (merged) =>
    db.transaction("rw", db.inspections, async () => {
      const current = await db.inspections.get(inspectionId);
      const extra = {};
      if ("representative_name" in merged && current) {
        extra.signatures = (current.signatures || []).map((s) =>
          s.signer === "representative" ? { ...s, name: merged.representative_name } : s);
      }
      return touchInspection(inspectionId, { ...merged, ...extra });
    }));
}

/**
 * Delete a local photo inside the caller's transaction (which must include db.photo_removals).
 * One the server already holds (sent during the visit) is noted for removal there too: the sync
 * engine sends the DELETE when it can.
 */
async function dropPhoto(photoId) {
  const photo = await db.photos.get(photoId);
  if (photo && photo.uploaded) {
    await db.photo_removals.put({ id: photo.id, inspection_id: photo.inspection_id, assignment_id: photo.assignment_id,
      at: nowIso() });
  }
  await db.photos.delete(photoId);
}

/** Tell the sync engine that a draft's photos changed (it sends new ones while online). */
function photosChanged(inspectionId) {
  emit("photos-changed", { inspectionId });
}

/**
 * Store an evidence photo (already downscaled) for an item and list it on the item's finding.
 * `replaceId`: the photo it replaces (retake), deleted in the same transaction.
 */
export async function addEvidencePhoto(data, itemId, prepared, sha256, replaceId = null) {
  const { inspection } = data;
  const photo = {
    id: uuid(), inspection_id: inspection.id, assignment_id: inspection.assignment_id, item_id: itemId,
    kind: "evidence", signer: null, blob: prepared.blob, type: prepared.type || prepared.blob.type,
    sha256, width: prepared.width, height: prepared.height, size: prepared.size || prepared.blob.size,
    created_at: nowIso(), uploaded: 0,
  };
  await flushWrites();
  const finding = await db.transaction("rw", db.photos, db.photo_removals, db.findings, db.inspections, async () => {
    const existing = await db.findings.where("[inspection_id+item]").equals([inspection.id, itemId]).first();
    if (!existing) throw new Error("请先选择本项的检查结果");
    let ids = [...(existing.photo_ids || [])];
    if (replaceId) {
      const at = ids.indexOf(replaceId);
      if (at >= 0) ids[at] = photo.id; else ids.push(photo.id);
      await dropPhoto(replaceId);
    } else {
      ids.push(photo.id);
    }
    await db.photos.add(photo);
    const next = { ...existing, photo_ids: ids, client_revision: (existing.client_revision || 0) + 1, client_updated_at: nowIso() };
    await db.findings.put(next);
    await touchInspection(inspection.id);
    return next;
  });
  photosChanged(inspection.id);
  return { photo, finding };
}

/** Delete an evidence photo and take it off its finding. */
export async function deleteEvidencePhoto(inspectionId, itemId, photoId) {
  await flushWrites();
  const finding = await db.transaction("rw", db.photos, db.photo_removals, db.findings, db.inspections, async () => {
    const existing = await db.findings.where("[inspection_id+item]").equals([inspectionId, itemId]).first();
    await dropPhoto(photoId);
    if (!existing) return null;
    const next = { ...existing, photo_ids: (existing.photo_ids || []).filter((id) => id !== photoId),
      client_revision: (existing.client_revision || 0) + 1, client_updated_at: nowIso() };
    await db.findings.put(next);
    await touchInspection(inspectionId);
    return next;
  });
  photosChanged(inspectionId);
  return finding;
}

const sameSigner = (a, b) => a.signer === b.signer && (a.signer === "representative" || a.user_id === b.user_id);

/** Store a signature image (PNG) for a signer, replacing that signer's previous one. */
export async function saveSignature(inspectionId, signer, prepared, sha256) {
  const inspection = await db.inspections.get(inspectionId);
  const photo = {
    id: uuid(), inspection_id: inspectionId, assignment_id: inspection.assignment_id, item_id: null,
    kind: "signature", signer: signer.signer, blob: prepared.blob, type: prepared.type || "image/png",
    sha256, width: prepared.width, height: prepared.height, size: prepared.size || prepared.blob.size,
    created_at: nowIso(), uploaded: 0,
  };
  await flushWrites();
  const saved = await db.transaction("rw", db.photos, db.photo_removals, db.inspections, async () => {
    const current = await db.inspections.get(inspectionId);
    const old = (current.signatures || []).filter((s) => sameSigner(s, signer));
    for (const s of old) await dropPhoto(s.photo_id);
    const signatures = (current.signatures || []).filter((s) => !sameSigner(s, signer));
    signatures.push({ photo_id: photo.id, signer: signer.signer, name: signer.name || "", user_id: signer.user_id || null });
    await db.photos.add(photo);
    return touchInspection(inspectionId, { signatures });
  });
  photosChanged(inspectionId);
  return saved;
}

/** Remove a signer's signature (the image too). */
export async function removeSignature(inspectionId, signer) {
  await flushWrites();
  const saved = await db.transaction("rw", db.photos, db.photo_removals, db.inspections, async () => {
    const current = await db.inspections.get(inspectionId);
    for (const s of (current.signatures || []).filter((x) => sameSigner(x, signer))) await dropPhoto(s.photo_id);
    return touchInspection(inspectionId, { signatures: (current.signatures || []).filter((s) => !sameSigner(s, signer)) });
  });
  photosChanged(inspectionId);
  return saved;
}

/** Delete a local inspection with its findings and photos (after the user confirmed). */
export async function discardInspection(inspectionId) {
  await flushWrites();
  await db.transaction("rw", db.inspections, db.findings, db.photos, db.photo_removals, async () => {
    const inspection = await db.inspections.get(inspectionId);
    await db.findings.where("inspection_id").equals(inspectionId).delete();
    // A draft's photos already sent go from the server too; a submitted record's stay there.
    const unsent = inspection && ["draft", "rejected"].includes(inspection.state);
    for (const photo of await db.photos.where("inspection_id").equals(inspectionId).toArray()) {
      if (unsent) await dropPhoto(photo.id); else await db.photos.delete(photo.id);
    }
    await db.inspections.delete(inspectionId);
  });
  photosChanged(inspectionId);
}

/** What an inspection holds, in words, for confirmations ("12 项作答，3 张照片"). */
export async function inspectionSummary(inspectionId) {
  const [answers, photos] = await Promise.all([
    db.findings.where("inspection_id").equals(inspectionId).count(),
    db.photos.where("inspection_id").equals(inspectionId).toArray(),
  ]);
  const evidence = photos.filter((p) => p.kind === "evidence").length;
  const signatures = photos.length - evidence;
  return { answers, evidence, signatures };
}
