// The app shell for offline starts (HTTPS only: browsers allow service
// workers nowhere else). API answers are never cached here: what is in the
// kitchen must come from Stocky, or visibly not at all.
const SHELL = "stocky-shell-v1";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(["/", "/manifest.webmanifest", "/icon.svg"])));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((names) => Promise.all(names.filter((n) => n !== SHELL).map((n) => caches.delete(n)))),
  );
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (url.pathname.startsWith("/api/") || url.pathname === "/ws" || url.pathname === "/health") return;
  if (event.request.mode === "navigate") {
    // Pages: fresh when Stocky answers, the kept shell when it does not.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          const copy = response.clone();
          void caches.open(SHELL).then((cache) => cache.put("/", copy));
          return response;
        })
        .catch(() => caches.match("/")),
    );
    return;
  }
  if (url.pathname.startsWith("/assets/")) {
    // Hashed names never change content: keep each one the first time.
    event.respondWith(
      caches.match(event.request).then((hit) =>
        hit ?? fetch(event.request).then((response) => {
          const copy = response.clone();
          void caches.open(SHELL).then((cache) => cache.put(event.request, copy));
          return response;
        }),
      ),
    );
  }
});
