// Online status by asking the server itself (GET /health), not by navigator.onLine alone:
// a tablet on a hotel Wi-Fi login page, or with a dead uplink, says "online" and reaches nothing.
// The browser's online/offline events only trigger a probe.
import { emit } from "./events.js";

const PROBE_TIMEOUT_MS = 4000;
const PROBE_EVERY_MS = 30000;

let online = null; // unknown until the first probe
let started = false;
let probing = null;

/** The last known state (false until a probe succeeded). */
export function isOnline() {
  return online === true;
}

function set(value) {
  if (value === online) return;
  online = value;
  emit("connection", { online });
}

/**
 * Probe the server now (one probe at a time; callers share it).
 * @returns {Promise<boolean>} whether the server answered.
 */
export function probe() {
  if (!probing) {
    probing = (async () => {
      if (navigator.onLine === false) return false; // certain: no network at all
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), PROBE_TIMEOUT_MS);
      try {
        const response = await fetch("/health", { cache: "no-store", signal: controller.signal });
        // 503 = the server runs but its database doesn't: nothing can sync, treat as offline.
        return response.ok;
      } catch (error) {
        return false;
      } finally {
        clearTimeout(timer);
      }
    })().then((value) => { set(value); return value; }).finally(() => { probing = null; });
  }
  return probing;
}

/**
 * Start watching the connection: a probe now, every 30 s, and on the browser's online/offline
 * events. Safe to call more than once.
 * @returns {Promise<boolean>} the result of the first probe.
 */
export function startConnectionMonitor() {
  if (!started) {
    started = true;
    window.addEventListener("online", () => probe());
    window.addEventListener("offline", () => { set(false); probe(); });
    setInterval(() => probe(), PROBE_EVERY_MS);
  }
  return probe();
}
