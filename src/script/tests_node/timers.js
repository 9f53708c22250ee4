const out = { order: [] };
const log = (x) => out.order.push(x);
  setTimeout(() => log('timeout 120'), 120);
  setTimeout((a, b) => log('timeout 0 ' + a + b), 0, 'x', 'y');
  const t = setTimeout(() => log('cleared'), 5);
  clearTimeout(t);
  let n = 0;
  const iv = setInterval(() => { log('interval ' + ++n); if (n === 3) clearInterval(iv); }, 5);
  Promise.resolve().then(() => log('microtask'));
  queueMicrotask(() => log('queueMicrotask'));
  await new Promise((r) => setTimeout(r, 140));
  log('after 140'); setImmediate((a) => log('immediate ' + a), 'z'); await new Promise((r) => setImmediate(r));
  const id = setTimeout(() => log('by number'), 1);
  clearTimeout(+id);
  await new Promise((r) => setTimeout(r, 5));
  out.handle = [typeof id, typeof id.ref, id.hasRef(), typeof +id];
  const ts = AbortSignal.timeout(5); await new Promise((r) => setTimeout(r, 30)); out.abortTimeout = [ts.aborted, ts.reason.name, ts.reason.message, ts.reason.code];
  try { setTimeout('code', 1); } catch (e) { out.err = [e.name, e.code]; }
api.accessToken.setCustomClaim('out', out);
