// Registers the service worker, announces a new app version, and switches to it when asked.
// The switch is the user's choice (「新版本已就绪，点击更新」): a waiting worker never takes over a
// page on its own, so nothing being typed is lost; IndexedDB is untouched by an update.
import { emit } from "./events.js";

let registration = null;
let announced = null;

function announce(worker) {
  if (!worker || announced === worker) return;
  announced = worker;
  emit("app-update-ready", {});
}

function watch(worker) {
  // A worker that finished installing while another controls the page is an update.
  const check = () => {
    if (worker.state === "installed" && navigator.serviceWorker.controller) announce(worker);
  };
  worker.addEventListener("statechange", check);
  check();
}

/**
 * Register /sw.js for the whole origin and watch for updates. Safe to call more than once.
 * @returns {Promise<ServiceWorkerRegistration|null>} null where service workers are unavailable.
 */
export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return null;
  if (registration) return registration;
  registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  if (registration.waiting && navigator.serviceWorker.controller) announce(registration.waiting);
  if (registration.installing) watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));
  // Look for a new version now and then while the app stays open all day.
  setInterval(() => checkForUpdate(), 30 * 60 * 1000);
  return registration;
}

/**
 * Ask the server for a newer sw.js now (after reconnecting, or from tests).
 * @returns {Promise<boolean>} whether a new version is waiting.
 */
export async function checkForUpdate() {
  const reg = registration || (await navigator.serviceWorker?.getRegistration());
  if (!reg) return false;
  try {
    await reg.update();
  } catch (error) {
    return false; // offline: try later
  }
  const worker = reg.installing || reg.waiting;
  if (worker && worker.state !== "installed") {
    await new Promise((resolve) => {
      const done = () => {
        if (worker.state === "installed" || worker.state === "redundant" || worker.state === "activated") resolve();
      };
      worker.addEventListener("statechange", done);
      done();
    });
  }
  if (reg.waiting && navigator.serviceWorker.controller) announce(reg.waiting);
  return !!reg.waiting;
}

/** Whether a new version waits to be applied. */
export async function updateWaiting() {
  const reg = registration || (await navigator.serviceWorker?.getRegistration());
  return !!(reg && reg.waiting);
}

/**
 * Switch to the waiting version: the worker skips waiting, and the page reloads once the new
 * worker controls it. Does nothing when no version waits.
 * @param {{reload?: boolean}} [options] reload: false leaves the reload to the caller.
 * @returns {Promise<boolean>} whether an update was applied.
 */
export async function applyUpdate({ reload = true } = {}) {
  const reg = registration || (await navigator.serviceWorker?.getRegistration());
  if (!reg || !reg.waiting) return false;
  const switched = new Promise((resolve) => {
    navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true });
  });
  reg.waiting.postMessage({ type: "SKIP_WAITING" });
  await switched;
  if (reload) window.location.reload();
  return true;
}

/**
 * The precache version of the worker controlling this page (null when none does).
 * @returns {Promise<string|null>}
 */
export async function activeVersion() {
  const controller = navigator.serviceWorker?.controller;
  if (!controller) return null;
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    const timer = setTimeout(() => resolve(null), 3000);
    channel.port1.onmessage = (event) => { clearTimeout(timer); resolve(event.data.version); };
    controller.postMessage({ type: "GET_VERSION" }, [channel.port2]);
  });
}
