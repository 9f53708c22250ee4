// claimsmith's stand-in for the npm package `node-fetch` (v2's CommonJS API; used when
// node_modules has none): the scripts' `fetch` and its classes, plus `Response#buffer()`.
'use strict';

function fetchCompat(input, init) {
  return fetch(input, init).then((r) => {
    const text = r.clone();
    Object.defineProperty(r, 'buffer', { value: () => text.arrayBuffer().then((b) => Buffer.from(b)), enumerable: false });
    return r;
  });
}
class FetchError extends Error {
  constructor(message, type) { super(message); this.name = 'FetchError'; this.type = type; }
}
fetchCompat.default = fetchCompat;
fetchCompat.Headers = Headers;
fetchCompat.Request = Request;
fetchCompat.Response = Response;
fetchCompat.FetchError = FetchError;
fetchCompat.isRedirect = (code) => [301, 302, 303, 307, 308].includes(code);
module.exports = fetchCompat;
