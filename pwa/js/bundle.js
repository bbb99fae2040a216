// The offline bundle (docs/sync-protocol.md §2) kept in IndexedDB: assignments, checklist
// versions, institutions and physicians, refreshed incrementally (`since` + ETag) while online, so
// an inspector can work for days without network.
import { db, getMeta, setMeta, unsyncedInspections } from "./db.js";
import { api, ApiError } from "./api.js";
import { emit, on } from "./events.js";
import { isOnline } from "./connection.js";

const REFRESH_EVERY_MS = 5 * 60 * 1000;

let running = null;
let started = false;
let online = false;

/**
 * Pull the bundle now (one pull at a time; callers share it).
 * @param {{full?: boolean}} [options] full: ignore the cursor and ETag (everything again).
 * @returns {Promise<{status: number, full: boolean, counts: object|null}>} status 304 when
 *   nothing changed.
 * @throws {AuthRequired|NetworkError|ApiError} from api.js.
 */
export function refreshBundle(options = {}) {
  if (!running) running = pull(options).finally(() => { running = null; });
  return running;
}

async function pull({ full = false } = {}) {
  const session = await getMeta("session");
  // A cursor belongs to the user who pulled it: another user on this tablet starts afresh.
  const sameUser = session && (await getMeta("bundle_user")) === session.user_id;
  const cursor = full || !sameUser ? null : await getMeta("bundle_cursor");
  const etag = full || !sameUser ? null : await getMeta("bundle_etag");
  const path = cursor ? `/api/sync/bundle?since=${encodeURIComponent(cursor)}` : "/api/sync/bundle";
  let answer;
  try {
    answer = await api(path, { headers: etag ? { "If-None-Match": etag } : {} });
  } catch (error) {
    // 422: a cursor this server did not make (restored backup, another server): pull everything.
    if (error instanceof ApiError && error.status === 422 && cursor) return pull({ full: true });
    throw error;
  }
  if (answer.status === 304) {
    await setMeta("last_bundle_at", new Date().toISOString());
    return { status: 304, full: false, counts: null };
  }
  const bundle = answer.body;
  const counts = await store(bundle);
  await setMeta("bundle_cursor", bundle.cursor);
  await setMeta("bundle_etag", answer.headers.get("ETag"));
  await setMeta("bundle_user", session ? session.user_id : null);
  await setMeta("last_bundle_at", new Date().toISOString());
  emit("bundle-updated", { counts, full: bundle.full });
  return { status: answer.status, full: bundle.full, counts };
}

/** Write one answer in a single transaction: a half-stored bundle is never seen. */
async function store(bundle) {
  const tables = [db.assignments, db.checklists, db.institutions, db.physicians, db.inspections];
  return db.transaction("rw", tables, async () => {
    await db.checklists.bulkPut(bundle.checklists);
    await db.institutions.bulkPut(bundle.institutions);
    await db.physicians.bulkPut(bundle.physicians);
    await db.assignments.bulkPut(
      bundle.assignments.map((a) => ({ ...a, institution_id: a.institution.id })),
    );
    // Assignments no longer ours (cancelled, team changed) go, unless work on them is unsynced:
    // that work must reach the server (which then says what happened) and is never dropped here.
    const current = new Set(bundle.assignment_ids);
    const busy = new Set((await unsyncedInspections()).map((i) => i.assignment_id));
    const stale = (await db.assignments.toCollection().primaryKeys())
      .filter((id) => !current.has(id) && !busy.has(id));
    await db.assignments.bulkDelete(stale);
    return {
      assignments: bundle.assignments.length,
      checklists: bundle.checklists.length,
      institutions: bundle.institutions.length,
      physicians: bundle.physicians.length,
      dropped: stale.length,
    };
  });
}

async function quietly() {
  // Nobody signed in yet (a pull would only earn a 401), or someone who does not inspect (the
  // manager's screens and the desk work online; they have no use for an offline bundle):
  // nothing to pull.
  const session = await getMeta("session");
  if (!session || session.role !== "inspector") return;
  try {
    await refreshBundle();
  } catch (error) {
    // Offline or signed out: the next reconnect, login or timer tries again; api.js already
    // announced a needed login.
  }
}

/**
 * Keep the bundle fresh: after login, on reconnect, and every 5 minutes while online. The first
 * pull happens when connection.js reports the server reachable. Safe to call more than once.
 */
export function startBundleSync() {
  if (started) return;
  started = true;
  on("connection", ({ online: now }) => {
    const back = now && !online;
    online = now;
    if (back) quietly();
  });
  on("session", (session) => { if (session) quietly(); });
  setInterval(() => { if (online) quietly(); }, REFRESH_EVERY_MS);
  online = isOnline();
  if (online) quietly();
}
