// The upload queue (docs/pwa.md "The sync engine"). No DOM here: it reads and writes IndexedDB and
// announces what happened through events.js.
//
// Rules, each from a failure seen in other field-data systems (lessons-from-peers.md):
// - only finished records (state "queued") go; one inspection at a time, its photos first, one at
//   a time, then one push with `submit: true` — a weak link never has to carry everything at once;
// - every id is made on the tablet, so any step can be repeated after a lost answer: a photo sent
//   twice answers 200, a push sent twice answers `unchanged` — never a duplicate;
// - network errors and 5xx retry with exponential back-off (capped at 5 minutes, with jitter), and
//   the queue resumes on start, on reconnect, after login and on demand — it never stalls silently;
// - 401 pauses the queue until the inspector signs in again; nothing queued is ever discarded;
// - photo blobs are deleted only after the server acknowledged the inspection;
// - while the server answers, a draft's photos and signatures go ahead during the visit, one at a
//   time and after any submitted record waiting, so that at 提交 only the record is left (设置:
//   「联网时自动上传照片」); a photo taken off a draft after it was sent is removed there too.
import { db, getMeta, setMeta, deviceId } from "./db.js";
import { api, ApiError, AuthRequired, NetworkError } from "./api.js";
import { emit, on } from "./events.js";
import { isOnline, probe } from "./connection.js";
import { sha256Hex } from "./photo-prep.js";
import { normalAmount } from "./ui/format.js";

const BASE_DELAY_MS = 2000;
const MAX_DELAY_MS = 5 * 60 * 1000;
const LOCK = "yibao-sync-queue";
/** A signature is saved after every stroke: it is sent once it has been left alone this long. */
const SIGNATURE_SETTLE_MS = 3000;
/** A change to a draft's photos starts a run after this pause (a burst of shots, one run). */
const PHOTO_DEBOUNCE_MS = 400;
export const AUTO_UPLOAD_KEY = "auto_upload_photos";

/** Try again later (network, 5xx): the record stays queued. */
class Retry extends Error {}

/** The server refused this record for good: it goes to "rejected" with the reason. */
class Refused extends Error {
  constructor(rejection) {
    super(rejection.message);
    this.rejection = rejection;
  }
}

let started = false;
let running = null;
let again = false;
let attempts = 0;
let timer = null;
let nextRetryAt = null;
let authPaused = false;
let lastError = null;
let online = null;
let photoTimer = null;
/** Draft photos the server would not take now (409, 413, …): left for the push at 提交. */
const heldBack = new Set();

/**
 * 设置 「联网时自动上传照片」: whether drafts' photos are sent during the visit (default on).
 * @returns {Promise<boolean>}
 */
export async function autoUploadPhotos() {
  return (await getMeta(AUTO_UPLOAD_KEY)) !== false;
}

/**
 * Turn sending drafts' photos during the visit on or off; on starts sending at once.
 * @param {boolean} value
 */
export async function setAutoUploadPhotos(value) {
  await setMeta(AUTO_UPLOAD_KEY, !!value);
  await announce();
  if (value) runQueue();
}

/**
 * Per inspection, its photos (evidence and signatures) the server has and those still to send.
 * @returns {Promise<Map<string, {sent: number, waiting: number}>>}
 */
export async function photoProgress() {
  const progress = new Map();
  for (const photo of await db.photos.toArray()) {
    const entry = progress.get(photo.inspection_id) || { sent: 0, waiting: 0 };
    if (photo.uploaded) entry.sent += 1; else entry.waiting += 1;
    progress.set(photo.inspection_id, entry);
  }
  return progress;
}

/**
 * The queue at a glance, as sent with the `sync-state` event.
 * @returns {Promise<{online: boolean, waiting: number, syncing: boolean, rejected: number,
 *   lastSyncAt: string|null, lastError: string|null, authRequired: boolean, nextRetryAt: number|null}>}
 */
export async function queueStatus() {
  const waiting = await db.inspections.where("state").anyOf("queued", "syncing").count();
  const rejected = await db.inspections.where("state").equals("rejected").count();
  return {
    online: isOnline(),
    waiting,
    syncing: running !== null,
    rejected,
    photosWaiting: await db.photos.where("uploaded").equals(0).count(),
    autoUploadPhotos: await autoUploadPhotos(),
    lastSyncAt: (await getMeta("last_sync_at")) || null,
    lastError,
    authRequired: authPaused,
    nextRetryAt,
  };
}

async function announce() {
  emit("sync-state", await queueStatus());
}

/**
 * Queue a finished inspection (the inspector tapped 提交) and start sending it. A record already
 * queued, syncing or synced is left as it is, so a double tap sends nothing twice.
 * @param {string} inspectionId
 * @returns {Promise<void>} once the record is queued (sending goes on in the background).
 */
export async function enqueue(inspectionId) {
  await db.transaction("rw", db.inspections, async () => {
    const inspection = await db.inspections.get(inspectionId);
    if (!inspection) throw new Error("检查记录不存在");
    if (["queued", "syncing", "synced"].includes(inspection.state)) return;
    const now = new Date();
    await db.inspections.update(inspectionId, {
      state: "queued", submitted_at: now.toISOString(), rejection: null, updated_at: now.getTime(),
    });
  });
  await announce();
  runQueue();
}

/**
 * Put a rejected inspection back to draft so the inspector can correct it (the rejection stays
 * on the record, to show what to fix, until it is queued again).
 * @param {string} inspectionId
 * @returns {Promise<boolean>} whether it was reopened.
 */
export async function reopen(inspectionId) {
  const changed = await db.transaction("rw", db.inspections, async () => {
    const inspection = await db.inspections.get(inspectionId);
    if (!inspection || inspection.state !== "rejected") return false;
    await db.inspections.update(inspectionId, { state: "draft", updated_at: Date.now() });
    return true;
  });
  await announce();
  return changed;
}

/**
 * The push record of one inspection, built from IndexedDB (docs/sync-protocol.md §4).
 * @param {string} inspectionId
 * @param {{submit?: boolean}} [options] submit: ask the server to close it (default true).
 * @returns {Promise<object>} one element of the push's `inspections`.
 */
export async function buildPush(inspectionId, { submit = true } = {}) {
  const inspection = await db.inspections.get(inspectionId);
  if (!inspection) throw new Error("检查记录不存在");
  const findings = await db.findings.where("inspection_id").equals(inspectionId).toArray();
  const counts = (f) => Object.fromEntries(
    ["occurrences", "sampled", "failed", "population"].filter((k) => f[k] !== null && f[k] !== undefined).map((k) => [k, f[k]]),
  );
  return {
    id: inspection.id,
    assignment_id: inspection.assignment_id,
    checklist_id: inspection.checklist_id,
    checklist_version: inspection.checklist_version,
    checklist_hash: inspection.checklist_hash || null,
    client_revision: inspection.client_revision || 0,
    client_updated_at: inspection.client_updated_at || new Date().toISOString(),
    started_at: inspection.started_at || null,
    representative_name: inspection.representative_name || "",
    signature_refused_reason: inspection.signature_refused_reason || "",
    note: inspection.note || "",
    signatures: (inspection.signatures || []).map((s) => ({
      photo_id: s.photo_id, signer: s.signer, name: s.name || "",
      ...(s.user_id ? { user_id: s.user_id } : {}),
    })),
    findings: findings.map((f) => ({
      id: f.id,
      item: f.item,
      result: f.result,
      ...counts(f),
      note: f.note || "",
      // Every physician named (older drafts kept one in physician_id).
      physician_ids: Array.isArray(f.physician_ids) && f.physician_ids.length
        ? f.physician_ids : (f.physician_id ? [f.physician_id] : []),
      photo_ids: f.photo_ids || [],
      // 违规金额 as an exact two-decimal string, only where the server takes it (a failed
      // finding); an amount the server would refuse stays on the tablet (the form flags it).
      ...(f.result === "fail" && normalAmount(f.amount) !== null ? { amount: normalAmount(f.amount) } : {}),
      client_revision: f.client_revision || 0,
      client_updated_at: f.client_updated_at || inspection.client_updated_at || new Date().toISOString(),
    })),
    submit,
  };
}

/**
 * Send the queue now (after 「立即同步」, a reconnect, a login; also the retry timer). One run at a
 * time: a call during a run makes another run follow it.
 * @returns {Promise<void>} when this run is over (records may still be queued: see queueStatus()).
 */
export function runQueue() {
  if (running) {
    again = true;
    return running;
  }
  clearTimeout(timer);
  timer = null;
  nextRetryAt = null;
  running = withLock(drain)
    .catch((error) => {
      // Not a network or server answer (e.g. storage trouble): keep everything, try again later.
      lastError = String((error && error.message) || error);
      scheduleRetry();
    })
    .finally(async () => {
      running = null;
      if (again) {
        again = false;
        runQueue();
      } else {
        await announce();
      }
    });
  return running;
}

/** One tab at a time sends (two tabs of the app would otherwise upload the same photos). */
async function withLock(task) {
  if (!navigator.locks) return task();
  return navigator.locks.request(LOCK, { ifAvailable: true }, async (lock) => {
    if (lock) await task();
  });
}

async function drain() {
  if (authPaused) return;
  const queue = await db.inspections.where("state").anyOf("queued", "syncing").sortBy("submitted_at");
  const removals = await db.photo_removals.count();
  const draftPhotos = await nextDraftPhoto();
  if (!queue.length && !removals && !draftPhotos) return;
  // Ask the server first: offline, records stay 待同步 instead of flickering to 同步中 and back.
  if (!(await probe())) {
    lastError = "无法连接服务器，联网后自动同步";
    scheduleRetry();
    return;
  }
  await announce();
  if (!(await drainRecords(queue))) return;
  // Then, one at a time, what the visit produced: removals, then photos of drafts. A record
  // submitted meanwhile (runQueue sets `again`) goes first: the loop stops after the photo in flight.
  try {
    await sendRemovals();
    for (;;) {
      if (again || authPaused) return;
      const next = await nextDraftPhoto();
      if (!next) return;
      await sendDraftPhoto(next.inspection, next.photo);
      attempts = 0;
      lastError = null;
      await announce();
    }
  } catch (error) {
    if (error instanceof AuthRequired) {
      authPaused = true;
      lastError = "登录已失效，请重新登录后继续同步";
    } else {
      lastError = error instanceof NetworkError || error instanceof Retry
        ? error.message : `照片上传出错：${error.message || error}`;
      scheduleRetry();
    }
  }
}

/** Send the queued records in order; false when the run must stop (network, session). */
async function drainRecords(queue) {
  for (const { id } of queue) {
    try {
      await syncOne(id);
      attempts = 0;
      lastError = null;
    } catch (error) {
      if (error instanceof Refused) {
        await settleRejected(id, error.rejection);
        continue;
      }
      await setState(id, "queued");
      if (error instanceof AuthRequired) {
        authPaused = true; // resumed by the next login (the `session` event)
        lastError = "登录已失效，请重新登录后继续同步";
      } else {
        lastError = error instanceof NetworkError || error instanceof Retry
          ? error.message : `同步出错：${error.message || error}`;
        scheduleRetry();
      }
      return false; // the next records would meet the same network or session
    }
  }
  return true;
}

/**
 * The next photo of a draft to send during the visit: taken, still on the draft, not sent, not
 * held back; a signature only once it has been left alone. Null when there is none (or 设置
 * turned it off). A signature too fresh makes the queue look again shortly.
 * @returns {Promise<{inspection: object, photo: object}|null>}
 */
async function nextDraftPhoto() {
  if (!(await autoUploadPhotos())) return null;
  const drafts = await db.inspections.where("state").equals("draft").toArray();
  drafts.sort((a, b) => (a.updated_at || 0) - (b.updated_at || 0));
  let settling = false;
  for (const inspection of drafts) {
    // An assignment no longer in the bundle (cancelled, the inspector taken off the team): the
    // server would refuse its photos; they wait for 提交, whose answer says why.
    if (!(await db.assignments.get(inspection.assignment_id))) continue;
    const wanted = await referencedPhotoIds(inspection.id);
    const photos = (await db.photos.where("inspection_id").equals(inspection.id).toArray())
      .filter((p) => !p.uploaded && p.blob && wanted.has(p.id) && !heldBack.has(p.id))
      .sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
    for (const photo of photos) {
      if (photo.kind === "signature" && Date.now() - Date.parse(photo.created_at || 0) < SIGNATURE_SETTLE_MS) {
        settling = true;
        continue;
      }
      return { inspection, photo };
    }
  }
  if (settling) photosChanged(SIGNATURE_SETTLE_MS);
  return null;
}

/** One draft photo; a refusal holds it back until 提交 (whose push says what is wrong). */
async function sendDraftPhoto(inspection, photo) {
  try {
    await uploadPhoto(inspection, photo, { draft: true });
  } catch (error) {
    if (!(error instanceof Refused)) throw error;
    heldBack.add(photo.id);
  }
}

/** Remove from the server the photos taken off a draft after they were sent. */
async function sendRemovals() {
  for (const removal of await db.photo_removals.toArray()) {
    if (authPaused) return;
    try {
      await api(`/api/photos/${encodeURIComponent(removal.id)}`, { method: "DELETE", timeoutMs: 30000 });
    } catch (error) {
      if (error instanceof AuthRequired || !(error instanceof ApiError)) throw error;
      if (error.status >= 500 || error.status === 429 || error.status === 408) throw new Retry(error.message);
      // 404 gone already, 409 submitted meanwhile (its photos are the record's now): done either way.
    }
    await db.photo_removals.delete(removal.id);
  }
}

/** Look at drafts' photos again after `delay` ms (several changes in a row make one run). */
function photosChanged(delay = PHOTO_DEBOUNCE_MS) {
  clearTimeout(photoTimer);
  photoTimer = setTimeout(() => { photoTimer = null; runQueue(); }, delay);
}

function scheduleRetry() {
  attempts += 1;
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempts - 1));
  const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // jitter: tablets of a team don't retry in step
  nextRetryAt = Date.now() + delay;
  clearTimeout(timer);
  timer = setTimeout(() => runQueue(), delay);
}

async function setState(id, state) {
  await db.inspections.update(id, { state });
}

async function syncOne(id) {
  await setState(id, "syncing");
  await announce();
  let photosRetried = false;
  for (;;) {
    await uploadPhotos(id);
    const result = await push(await buildPush(id));
    if (result.status === "rejected" && result.code === "photos_missing" && !photosRetried) {
      photosRetried = true;
      if (await markForUpload(id, result.missing_photos || [])) continue; // upload again, push once more
    }
    if (result.status === "rejected") throw new Refused(rejectionOf(result));
    await settleSynced(id, result);
    return;
  }
}

/** The photo ids the record refers to (findings and signatures). */
async function referencedPhotoIds(id) {
  const inspection = await db.inspections.get(id);
  const findings = await db.findings.where("inspection_id").equals(id).toArray();
  return new Set([
    ...findings.flatMap((f) => f.photo_ids || []),
    ...(inspection.signatures || []).map((s) => s.photo_id),
  ]);
}

async function uploadPhotos(id) {
  const inspection = await db.inspections.get(id);
  const wanted = await referencedPhotoIds(id);
  const photos = await db.photos.where("inspection_id").equals(id).toArray();
  for (const photo of photos) {
    if (wanted.has(photo.id) && !photo.uploaded && photo.blob) await uploadPhoto(inspection, photo);
  }
}

async function uploadPhoto(inspection, photo, { draft = false } = {}) {
  // The hash is always taken from the bytes about to be sent, never trusted from earlier.
  const sha256 = await sha256Hex(photo.blob);
  if (sha256 !== photo.sha256) await db.photos.update(photo.id, { sha256 });
  const form = new FormData();
  form.append("id", photo.id);
  form.append("sha256", sha256);
  form.append("assignment_id", inspection.assignment_id);
  form.append("inspection_id", inspection.id);
  form.append("kind", photo.kind || "evidence");
  if (photo.kind === "signature") form.append("signer", photo.signer);
  else if (photo.item_id) form.append("item_id", photo.item_id);
  if (photo.created_at) form.append("captured_at", photo.created_at);
  const extension = { "image/png": "png", "image/webp": "webp" }[photo.type || photo.blob.type] || "jpg";
  form.append("file", photo.blob, `${photo.id}.${extension}`);
  try {
    await api("/api/photos", { method: "POST", form, timeoutMs: 120000 });
  } catch (error) {
    if (error instanceof AuthRequired || !(error instanceof ApiError)) throw error;
    const field = error.body && error.body.extra && error.body.extra.field;
    if (error.status >= 500 || error.status === 429 || error.status === 408 || (error.status === 422 && field === "sha256")) {
      throw new Retry(error.message); // a cut-off upload or a busy server: send it again later
    }
    if (error.status === 409) {
      if (draft) throw new Refused({ code: "photo_conflict", message: error.message, problems: [], missing_photos: [photo.id] });
      return; // id taken or already submitted: the push tells which
    }
    throw new Refused({ code: "photo_refused", message: `照片未被服务器接受：${error.message}`,
      problems: [], missing_photos: [photo.id] });
  }
  // Taken off the draft while it was on its way: the server is told to remove it again.
  await db.transaction("rw", db.photos, db.photo_removals, async () => {
    if (await db.photos.get(photo.id)) await db.photos.update(photo.id, { uploaded: 1 });
    else await db.photo_removals.put({ id: photo.id, inspection_id: inspection.id, assignment_id: inspection.assignment_id, at: new Date().toISOString() });
  });
}

/** After `photos_missing`: the photos the server lacks are sent again. Returns whether any is. */
async function markForUpload(id, missing) {
  const wanted = await referencedPhotoIds(id);
  const local = (await db.photos.where("inspection_id").equals(id).toArray())
    .filter((p) => wanted.has(p.id) && p.blob);
  // The server names the photos it lacks in its messages. None named: the record lacks a photo
  // the checklist requires — no upload can fix that, the inspector must take it.
  const named = local.filter((p) => missing.some((text) => String(text).includes(p.id)));
  await Promise.all(named.map((p) => db.photos.update(p.id, { uploaded: 0 })));
  return named.length > 0;
}

async function push(record) {
  try {
    const { body } = await api("/api/sync", {
      method: "POST", json: { device_id: await deviceId(), inspections: [record] }, timeoutMs: 60000,
    });
    return body.results[0];
  } catch (error) {
    if (error instanceof AuthRequired || !(error instanceof ApiError)) throw error;
    // A rejected record comes with the rejection's status (409/422/404): its result is the answer.
    if (error.body && Array.isArray(error.body.results) && error.body.results.length) return error.body.results[0];
    if (error.status >= 500 || error.status === 429 || error.status === 408) throw new Retry(error.message);
    throw new Refused({ code: `http_${error.status}`, message: error.message,
      problems: error.body && error.body.extra ? [JSON.stringify(error.body.extra)] : [], missing_photos: [] });
  }
}

function rejectionOf(result) {
  return {
    code: result.code,
    message: result.message,
    problems: result.problems || [],
    missing_photos: result.missing_photos || [],
  };
}

async function settleRejected(id, rejection) {
  const at = new Date().toISOString();
  await db.inspections.update(id, { state: "rejected", rejection: { ...rejection, at }, updated_at: Date.now() });
  emit("inspection-rejected", { id, rejection: { ...rejection, at } });
}

async function settleSynced(id, result) {
  const server = {
    inspection_id: result.inspection_id || id,
    status: result.inspection_status,
    score: result.score || null,
    code: result.code,
    message: result.message,
    conflicts: result.conflicts || [],
    finding_ids: result.finding_ids || {},
    synced_at: new Date().toISOString(),
  };
  // Small copies stay, so the inspector still sees the photos and signatures of the submitted
  // inspection on this tablet, offline too (made before the transaction: it cannot await them).
  const thumbs = new Map();
  for (const photo of await db.photos.where("inspection_id").equals(id).toArray()) {
    if (photo.blob && !photo.thumb) thumbs.set(photo.id, await thumbnailOf(photo.blob));
  }
  await db.transaction("rw", db.inspections, db.photos, db.meta, async () => {
    await db.inspections.update(id, { state: "synced", server, rejection: null, updated_at: Date.now() });
    // Acknowledged: the server holds the photos now; the full-size blobs go, their records and
    // thumbnails stay (small).
    await db.photos.where("inspection_id").equals(id).modify((photo) => {
      if (thumbs.get(photo.id)) photo.thumb = thumbs.get(photo.id);
      photo.blob = null;
      photo.uploaded = 1;
    });
    await setMeta("last_sync_at", server.synced_at);
  });
  emit("inspection-synced", { id, server });
}

const THUMB_MAX = 320;
const SIGNATURE_MAX = 640; // signatures are shown larger, on the sign screen

/**
 * A JPEG at most THUMB_MAX px wide or high (a PNG signature, drawn on transparency, at most
 * SIGNATURE_MAX); null where the browser cannot make one (the screens then ask the server for it).
 * @param {Blob} blob
 * @returns {Promise<Blob|null>}
 */
async function thumbnailOf(blob) {
  if (typeof createImageBitmap !== "function" || typeof OffscreenCanvas !== "function") return null;
  try {
    const bitmap = await createImageBitmap(blob);
    const png = blob.type === "image/png";
    const scale = Math.min(1, (png ? SIGNATURE_MAX : THUMB_MAX) / Math.max(bitmap.width, bitmap.height));
    const canvas = new OffscreenCanvas(Math.max(1, Math.round(bitmap.width * scale)), Math.max(1, Math.round(bitmap.height * scale)));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    return await canvas.convertToBlob(png ? { type: "image/png" } : { type: "image/jpeg", quality: 0.8 });
  } catch (error) {
    return null;
  }
}

/**
 * Start the engine: run the queue now (records left from an earlier session resume), and again
 * on reconnect, after login and on every 「立即同步」. Safe to call more than once.
 */
export function startSyncEngine() {
  if (started) return;
  started = true;
  on("connection", ({ online: now }) => {
    const back = now && online !== true;
    online = now;
    if (back) {
      attempts = 0; // a fresh connection deserves a fresh start, not the longest wait
      runQueue();
    } else {
      announce();
    }
  });
  on("session", (session) => {
    if (!session) return;
    authPaused = false;
    lastError = null;
    attempts = 0;
    runQueue();
  });
  on("auth-required", () => {
    authPaused = true;
    announce();
  });
  on("photos-changed", () => photosChanged());
  runQueue();
}
