// The service worker: the app shell from a versioned cache, so the app opens with no network.
//
// The server puts `self.__PRECACHE = {version, urls}` in front of this file (backend/pwa_routes.py):
// the version is a hash of every shell file, so any change to the app makes this script differ
// byte for byte and the browser installs a new worker. The new worker waits until the page asks
// it to take over (the user taps 「新版本已就绪，点击更新」), so a form being filled in is never
// swapped under the inspector's fingers.
//
// Data never lives here: IndexedDB belongs to the page and this worker never opens it, so an
// update can't touch queued records. API responses are never cached (the page keeps what it needs
// in IndexedDB), and non-GET requests are never intercepted.
/* global self, caches, clients */

const PRECACHE = self.__PRECACHE || { version: "dev", urls: [] };
const PREFIX = "yibao-shell-";
const CACHE = `${PREFIX}${PRECACHE.version}`;
const INDEX = "/index.html";
// The desk (工作台) is online-only and not part of the shell: its files are cached apart, network
// first, so a supervisor always gets the newest desk and a brief outage still opens the last one.
const DESK_CACHE = "yibao-desk";
const DESK_PATHS = ["/js/views/desk/", "/css/desk.css", "/vendor/desk/"];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // `reload` bypasses the HTTP cache: a stale file under a new version name would pin it.
    await cache.addAll(PRECACHE.urls.map((url) => new Request(url, { cache: "reload" })));
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    // Only this app's old shells go; any other cache on the origin is not ours to delete.
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "SKIP_WAITING") self.skipWaiting();
  if (data.type === "GET_VERSION" && event.ports[0]) event.ports[0].postMessage({ version: PRECACHE.version });
});

/** Paths that are the app (a navigation to them gets the cached index.html). */
function isAppNavigation(url) {
  return url.pathname === "/" || url.pathname === INDEX || url.pathname.startsWith("/s/");
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // never intercept writes
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/health") return; // network only
  if (request.mode === "navigate") {
    if (isAppNavigation(url)) event.respondWith(fromCache(INDEX, request));
    return;
  }
  if (PRECACHE.urls.includes(url.pathname)) event.respondWith(fromCache(url.pathname, request));
  else if (DESK_PATHS.some((p) => url.pathname.startsWith(p))) event.respondWith(networkFirst(request));
});

/** The network, keeping a copy; the copy only when the network fails. */
async function networkFirst(request) {
  const cache = await caches.open(DESK_CACHE);
  try {
    const response = await fetch(request, { cache: "no-cache" });
    if (response.ok) cache.put(request, response.clone());
    return response;
  } catch (error) {
    const hit = await cache.match(request);
    if (hit) return hit;
    return new Response("离线状态下无法打开工作台", {
      status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
}

/** Cache first (the shell is versioned as a whole); the network only if the cache lost it. */
async function fromCache(path, request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(path);
  if (hit) return hit;
  try {
    return await fetch(request);
  } catch (error) {
    return new Response("离线状态下无法加载此文件", {
      status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" },
    });
  }
}
