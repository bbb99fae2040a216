// The one IndexedDB schema of the app (through Dexie). Versioned: a new version adds its
// stores/indexes in a new `db.version(n)` block with an upgrade function; never edit an old one,
// or tablets holding unsynced work would fail to open their database.
import Dexie from "../vendor/dexie-4.4.7.min.mjs";

export const db = new Dexie("yibao");

db.version(1).stores({
  // key-value: session, device_id, bundle cursor/etag, last sync, persist state, app version
  meta: "key",
  // from the offline bundle (server data, refreshed incrementally)
  assignments: "id, institution_id, status, window_start, window_end",
  checklists: "version_id",
  institutions: "id, &qr_token, code, region_id",
  physicians: "id, institution_id",
  // what the inspector records (client UUIDs)
  inspections: "id, assignment_id, state, updated_at",
  findings: "id, inspection_id, &[inspection_id+item]",
  photos: "id, inspection_id, [inspection_id+item_id], uploaded",
});

// Version 2: photos sent during the visit and then taken off the draft (deleted, retaken, a
// signature drawn again) wait here until the server has removed them too.
db.version(2).stores({
  photo_removals: "id, inspection_id",
});

/** Read a meta value (undefined when absent). */
export async function getMeta(key) {
  const row = await db.meta.get(key);
  return row ? row.value : undefined;
}

/** Write a meta value. */
export async function setMeta(key, value) {
  await db.meta.put({ key, value });
}

/** The tablet's stable device id, created once. */
export async function deviceId() {
  let id = await getMeta("device_id");
  if (!id) {
    id = `tab-${crypto.randomUUID()}`;
    await setMeta("device_id", id);
  }
  return id;
}

/** Inspections that hold work the server has not acknowledged (never discard these silently). */
export async function unsyncedInspections() {
  return db.inspections.where("state").anyOf("draft", "queued", "syncing", "rejected").toArray();
}
