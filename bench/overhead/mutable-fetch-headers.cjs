// Preloaded into the peer gateway (node --require) so that it can stream at all: Portkey 1.15.2 adds
// headers to the Response that fetch returned, whose headers undici makes immutable, and every
// streamed request through a custom host fails with "TypeError: immutable". Each fetch Response is
// handed over as a new Response over the same body and headers, which may be changed.
const fetch = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const response = await fetch(...args);
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
};
