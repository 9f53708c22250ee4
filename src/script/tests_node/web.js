const out = {};
const parts = (u) => [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash];
out.abs = parts(new URL('HTTPS://User:Pa%20ss@EXAMPLE.com:443/a/./b/../c?x=1&y=%20z#frag'));
out.rel = parts(new URL('../d/e?q#h', 'http://example.com:8080/a/b/c'));
out.idn = parts(new URL('http://Bücher.example/ü?ü=ü'));
out.ipv6 = parts(new URL('http://[::1]:3000/'));
out.file = parts(new URL('file:///tmp/x y'));
out.mailto = parts(new URL('mailto:ada@example.com'));
const u = new URL('https://auth.example.com/authorize?client_id=abc&scope=openid');
u.searchParams.append('state', 'a b&c');
u.searchParams.set('scope', 'openid profile');
u.hash = 'top'; u.port = '8443'; u.pathname = '/x y'; u.hostname = 'other.example.com';
u.protocol = 'http'; u.username = 'me'; u.password = 'p@ss';
out.set = [u.href, u.searchParams.get('state'), u.search];
u.search = '?a=1&a=2';
out.set2 = [u.searchParams.getAll('a'), u.searchParams.size, JSON.stringify({ u }), String(u)];
u.port = 'abc'; out.badPort = u.port;
out.canParse = [URL.canParse('x'), URL.canParse('x', 'https://e.com/'), URL.canParse('https://e.com')];
try { new URL('nope'); } catch (e) { out.invalid = [e.name, e.code, e.message, e.input]; }
const p = new URLSearchParams('?b=2&a=1&a=%C3%A9+x&c=%zz&d');
p.sort();
out.usp = [p.toString(), p.get('a'), p.getAll('a'), p.has('c'), p.has('a', '1'), p.get('nope'), [...p.keys()], [...p.values()], [...p.entries()].length, p.size];
p.delete('a'); out.usp2 = p.toString();
out.uspObj = new URLSearchParams({ x: '1', y: 'a+b c/é~!*()\'' }).toString();
out.uspPairs = new URLSearchParams([['k', 'v'], ['k', 'w']]).toString();
const fe = []; new URLSearchParams('a=1&b=2').forEach((v, k) => fe.push(k + v)); out.forEach = fe;
const ac = new AbortController();
const seen = [];
ac.signal.addEventListener('abort', (e) => seen.push(['listener', e.type, e.target === ac.signal]));
ac.signal.onabort = (e) => seen.push(['onabort', e.type]);
out.before = [ac.signal.aborted, ac.signal.reason];
ac.abort();
ac.abort('again');
out.abort = [ac.signal.aborted, ac.signal.reason.name, ac.signal.reason.message, seen.length];
const s2 = AbortSignal.abort('why'); out.abort2 = [s2.aborted, s2.reason];
try { s2.throwIfAborted(); } catch (e) { out.thrown = e; }
try { new AbortSignal(); } catch (e) { out.illegal = e.name; }
out.anyAborted = AbortSignal.any([new AbortController().signal, s2]).reason;
const et = new EventTarget(); let n = 0; et.addEventListener('x', () => n++, { once: true }); et.dispatchEvent(new Event('x')); et.dispatchEvent(new Event('x')); out.once = n;
out.process = [typeof process.env, process.platform, typeof process.version, typeof process.nextTick];
  const enc = new TextEncoder();
  const hex = (ab) => Buffer.from(ab).toString('hex');
  out.sha = [];
  for (const a of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512']) out.sha.push(hex(await crypto.subtle.digest(a, enc.encode('abc'))));
  out.shaObj = hex(await crypto.subtle.digest({ name: 'sha-256' }, new Uint8Array(0)));
  try { await crypto.subtle.digest('MD5', enc.encode('x')); } catch (e) { out.md5 = e.name; }
  const key = await crypto.subtle.importKey('raw', enc.encode('key'), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  const sig = await crypto.subtle.sign('HMAC', key, enc.encode('The quick brown fox jumps over the lazy dog'));
  out.hmac = [hex(sig), await crypto.subtle.verify('HMAC', key, sig, enc.encode('The quick brown fox jumps over the lazy dog')), await crypto.subtle.verify({ name: 'HMAC' }, key, sig, enc.encode('x')), key.type, key.extractable, key.algorithm, key.usages];
  const k512 = await crypto.subtle.importKey('raw', enc.encode('key'), { name: 'HMAC', hash: { name: 'SHA-512' } }, true, ['sign']);
  out.hmac512 = hex(await crypto.subtle.sign('HMAC', k512, enc.encode('The quick brown fox jumps over the lazy dog')));
  out.export = hex(await crypto.subtle.exportKey('raw', k512));
  try { await crypto.subtle.verify('HMAC', k512, sig, enc.encode('x')); } catch (e) { out.usage = e.name; }
  const id = crypto.randomUUID();
  out.uuid = [/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id), id !== crypto.randomUUID()];
  const r = crypto.getRandomValues(new Uint32Array(4)); out.random = [r instanceof Uint32Array, r.length];
  try { crypto.getRandomValues(new Float64Array(1)); } catch (e) { out.float = e.name; }
  try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { out.quota = e.name; }
  const order = [];
  process.nextTick((a, b) => order.push('tick ' + a + b), 1, 2);
  order.push('sync');
  await null; await null;
  out.tick = order;
api.accessToken.setCustomClaim('out', out);
