// Persistent storage: without it the browser may evict IndexedDB under storage pressure, and with
// it the inspector's unsynced work. Asked once at start; the answer is shown in the sync screen.
import { getMeta, setMeta } from "./db.js";
import { emit } from "./events.js";

/**
 * Usage and quota of this origin's storage, in bytes (nulls where the browser doesn't say).
 * @returns {Promise<{usage: number|null, quota: number|null}>}
 */
export async function storageEstimate() {
  if (!navigator.storage || !navigator.storage.estimate) return { usage: null, quota: null };
  const { usage = null, quota = null } = await navigator.storage.estimate();
  return { usage, quota };
}

/**
 * Ask the browser to keep this origin's data (navigator.storage.persist()); the answer is stored
 * in meta `persist_granted` and announced with emit("persist", {granted, usage, quota}).
 * @returns {Promise<boolean>} whether storage is persistent.
 */
export async function requestPersistence() {
  let granted = false;
  if (navigator.storage && navigator.storage.persist) {
    try {
      granted = (await navigator.storage.persisted()) || (await navigator.storage.persist());
    } catch (error) {
      granted = false;
    }
  }
  await setMeta("persist_granted", granted);
  emit("persist", { granted, ...(await storageEstimate()) });
  return granted;
}

/** The last known answer (undefined before the first request). */
export async function persistGranted() {
  return getMeta("persist_granted");
}
