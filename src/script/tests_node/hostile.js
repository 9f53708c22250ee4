// Tries to reach the host through the Node globals (tests_node_globals.rs). Sloppy code, so that
// `f.caller` and `arguments.callee.caller` are there to try.
const NODE = ['AbortController', 'AbortSignal', 'Buffer', 'CryptoKey', 'Event', 'EventTarget', 'TextDecoder',
  'TextEncoder', 'URL', 'URLSearchParams', 'atob', 'btoa', 'crypto', 'process', 'structuredClone', 'setTimeout',
  'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate'];
const out = { leaks: [], nativeFrames: 0, callers: [], compilers: [], reachedHostNames: [] };
// Every native function on the stack while a script callback runs, through V8-style call sites
// (settable in strict isolation only; warm pins Error.prepareStackTrace).
const natives = new Set();
try {
  Error.stackTraceLimit = 100;
  Error.prepareStackTrace = (e, sites) => {
    for (const s of sites) if (s.isNative && s.isNative()) { out.nativeFrames++; natives.add(s.getFunction()); }
    return '';
  };
} catch (e) { /* warm: read-only */ }
function capture() {
  new Error('probe').stack;
  let c;
  try { c = capture.caller; } catch (e) { c = 'threw'; }
  out.callers.push(c === null || c === undefined || c === 'threw' ? 'none' : typeof c);
}
// Before the first read, each name is an accessor (lazy_globals.rs): its getter and setter are
// reachable by ordinary means too.
const lazy = [];
for (const k of NODE) {
  const d = Object.getOwnPropertyDescriptor(globalThis, k);
  if (d !== undefined && !('value' in d)) lazy.push(d.get, d.set);
}
// The library is built on the first read of any of its names: run script code during the build.
const iter = Array.prototype[Symbol.iterator];
try { Array.prototype[Symbol.iterator] = function () { capture(); return iter.call(this); }; } catch (e) { /* warm */ }
typeof Buffer;
try { Array.prototype[Symbol.iterator] = iter; } catch (e) { /* warm */ }
// Script callbacks the globals call.
const hook = { toString() { capture(); return 'http://x.example/'; } };
new URL(hook); URL.canParse(hook); atob({ toString() { capture(); return ''; } }); btoa({ toString() { capture(); return ''; } });
new URLSearchParams({ get a() { capture(); return 1; } }).forEach(capture);
new URL('http://x/?a=1').searchParams.forEach(function () { capture(); });
structuredClone({ get a() { capture(); return 1; } });
Buffer.from({ valueOf() { capture(); return 'x'; } });
new TextEncoder().encode({ toString() { capture(); return 'x'; } });
new TextDecoder({ toString() { capture(); return 'utf-8'; } });
const et = new EventTarget(); et.addEventListener('x', capture); et.addEventListener('x', { handleEvent: capture }); et.dispatchEvent(new Event('x'));
const ac = new AbortController(); ac.signal.onabort = capture; ac.signal.addEventListener('abort', capture); ac.abort();
process.nextTick(capture);
setImmediate(capture);
const every = setInterval(function () { capture(); clearInterval(every); }, 1);
await new Promise((r) => setTimeout(function () { capture(); r(); }, 2));
const arr = new Uint8Array(4);
Object.defineProperty(arr, 'byteLength', { get() { capture(); return 4; } });
crypto.getRandomValues(arr);
await crypto.subtle.digest({ get name() { capture(); return 'SHA-256'; } }, new Uint8Array(1));
const key = await crypto.subtle.importKey('raw', new Uint8Array(1), { name: 'HMAC', get hash() { capture(); return 'SHA-256'; } }, false, ['sign']);
await crypto.subtle.sign({ get name() { capture(); return 'HMAC'; } }, key, new Uint8Array(1));
await null;
// What a script may reach by ordinary means: every global (Node ones included), recursively.
const reach = new Set();
const todo = [globalThis, ...lazy];
for (const k of NODE) todo.push(globalThis[k]);
const instances = [new URL('http://u:p@x/?a=1#h'), new URL('http://x/').searchParams, new URLSearchParams().entries(),
  Buffer.from('x'), new TextDecoder(), new TextEncoder(), new AbortController(), new AbortController().signal,
  AbortSignal.abort(), key, new Event('x'), new EventTarget(), crypto.subtle.digest('SHA-1', new Uint8Array(0)),
  setTimeout(() => {}, 1000), setImmediate(() => {})];
for (const f of [() => new URL('nope'), () => atob('*'), () => structuredClone(() => 1), () => Buffer.alloc(-1), () => new AbortSignal()]) {
  try { f(); } catch (e) { instances.push(e); }
}
todo.push(...instances);
// Every getter read on each instance, through its whole prototype chain.
for (const i of instances) {
  for (let p = i; p !== null; p = Object.getPrototypeOf(p)) {
    for (const k of Reflect.ownKeys(p)) { try { todo.push(i[k]); } catch (e) { /* brand checks */ } }
  }
}
while (todo.length) {
  const o = todo.pop();
  if (o === null || (typeof o !== 'object' && typeof o !== 'function') || reach.has(o)) continue;
  reach.add(o);
  todo.push(Object.getPrototypeOf(o));
  for (const k of Reflect.ownKeys(o)) {
    const d = Object.getOwnPropertyDescriptor(o, k);
    if ('value' in d) todo.push(d.value);
    else { todo.push(d.get, d.set); try { todo.push(o[k]); } catch (e) { /* brand checks */ } }
  }
}
for (const f of natives) if (!reach.has(f)) out.leaks.push(String(f.name || '(anonymous)'));
// No compiler behind any function a Node global holds.
for (const o of reach) {
  if (typeof o !== 'function') continue;
  try { o.constructor('return this')(); out.compilers.push(String(o.name)); } catch (e) { /* expected */ }
}
// rquickjs host functions are the only functions without an own `name` (built-ins and script
// functions all have one): none may be reachable, nor on the stack.
out.hostLike = [];
for (const f of [...reach, ...natives]) {
  if (typeof f === 'function' && !Object.prototype.hasOwnProperty.call(f, 'name')) out.hostLike.push(Reflect.ownKeys(f).map(String).join());
}
// Names of the host functions must not appear on anything reachable.
const HOST = ['urlParse', 'urlSet', 'hmacVerify', 'nodeGlobals', 'library', 'more', 'cacheGet', 'cacheSet', 'patch'];
for (const o of reach) for (const k of Reflect.ownKeys(o)) if (HOST.indexOf(k) >= 0) out.reachedHostNames.push(String(k));
out.reached = reach.size;
api.accessToken.setCustomClaim('out', out);
