// A tiny app-wide event bus, so storage, sync and UI modules never import each other's internals.
const target = new EventTarget();

/** Announce something: emit("sync-state", {...}). */
export function emit(type, detail = {}) {
  target.dispatchEvent(new CustomEvent(type, { detail }));
}

/** Listen: on("sync-state", (detail) => ...). Returns a function that stops listening. */
export function on(type, handler) {
  const listener = (event) => handler(event.detail);
  target.addEventListener(type, listener);
  return () => target.removeEventListener(type, listener);
}
