// Betterwork's service worker: keeps the assessment form working without a connection.
// Static assets come from the cache first; assessment pages from the network first, and from
// their stored copy when the network fails; any other page falls back to a neutral offline page.
// What the advisor changes offline is not here: it waits in IndexedDB (static/js/offline.js).
const VERSION = "{{ version }}";
const ASSETS = {{ assets|safe }};
{% verbatim %}
const STATIC_CACHE = "betterwork-static-" + VERSION;
const PAGE_CACHE = "betterwork-pages";
const OFFLINE_PAGE = "/offline/";
// The overview of an assessment, each cluster of its form, its page of offline changes, and the
// compliance tool version it is assessed against (questions, guidance, legal references).
const KEPT_PAGE = /^\/(p\/[^/]+\/assessments\/\d+\/(clusters\/[^/]+\/|offline\/)?|tool\/\d+\/)$/;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(STATIC_CACHE)
      .then((cache) => cache.addAll([...ASSETS, OFFLINE_PAGE]))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(
        names.filter((name) => name.startsWith("betterwork-static-") && name !== STATIC_CACHE)
          .map((name) => caches.delete(name))
      ))
      .then(() => self.clients.claim())
  );
});

function pageKey(url) {
  const copy = new URL(url);
  copy.hash = "";
  copy.search = "";
  return copy.href;
}

// A page worth keeping: the server's own answer, not a redirect to sign in.
function keepable(response) {
  return response.ok && !response.redirected && response.type === "basic";
}

async function fromNetworkFirst(request) {
  try {
    const response = await fetch(request);
    if (keepable(response)) {
      const cache = await caches.open(PAGE_CACHE);
      await cache.put(pageKey(request.url), response.clone());
    }
    return response;
  } catch (error) {
    const kept = await caches.match(pageKey(request.url), { cacheName: PAGE_CACHE });
    return kept || (await caches.match(OFFLINE_PAGE)) || Response.error();
  }
}

async function fromCacheFirst(request) {
  const kept = await caches.match(request, { cacheName: STATIC_CACHE });
  return kept || fetch(request);
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(fromCacheFirst(request));
  } else if (request.mode === "navigate" && KEPT_PAGE.test(url.pathname)) {
    event.respondWith(fromNetworkFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match(OFFLINE_PAGE).then((page) => page || Response.error())));
  }
});

// The form asks for every page of an assessment to be kept, so that clusters not yet opened
// also open offline. Pages already kept are not fetched again: opening a page online refreshes it.
self.addEventListener("message", (event) => {
  const message = event.data || {};
  const reply = (answer) => event.ports[0] && event.ports[0].postMessage(answer);
  if (message.type === "keep") {
    event.waitUntil(keepPages(message.urls || []).then(reply, () => reply({ kept: 0 })));
  }
});

async function keepPages(urls) {
  const cache = await caches.open(PAGE_CACHE);
  let kept = 0;
  for (const url of urls) {
    const key = pageKey(new URL(url, self.location.origin).href);
    if (new URL(key).origin !== self.location.origin || !KEPT_PAGE.test(new URL(key).pathname)) {
      continue;
    }
    if (await cache.match(key)) {
      kept += 1;
      continue;
    }
    try {
      const response = await fetch(key, { credentials: "same-origin" });
      if (keepable(response)) {
        await cache.put(key, response);
        kept += 1;
      }
    } catch (error) {
      // Offline again: the pages already kept stay as they are.
    }
  }
  return { kept };
}
{% endverbatim %}
