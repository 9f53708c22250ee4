const out = {};
const te = new TextEncoder();
out.te = Array.from(te.encode('h€llo \u{1F600} \uD800x'));
out.teInto = te.encodeInto('a€b', new Uint8Array(3));
out.td = new TextDecoder().decode(new Uint8Array([0xEF,0xBB,0xBF,0x68,0xC3,0xA9,0xFF,0xE2,0x82,0xF0,0x9F,0x98,0x80,0xED,0xA0,0x80,0x41]));
try { new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xC3])); } catch (e) { out.tdFatal = [e.name, e.code]; }
const d = new TextDecoder(); out.tdStream = d.decode(new Uint8Array([0xE2, 0x82]), {stream: true}) + '|' + d.decode(new Uint8Array([0xAC]));
out.btoa = btoa('hello\xff\x00');
out.atob = atob(' aGVs bG8=');
out.atob2 = atob('YQ');
try { atob('a'); } catch (e) { out.atobErr = [e.name, e.message]; }
try { btoa('€'); } catch (e) { out.btoaErr = [e.name, e.message]; }
const src = { a: [1, { b: 2 }], d: new Date(0), r: /x/gi, m: new Map([[1, 'one']]), s: new Set([2]), u: new Uint16Array([1, 2]), n: null, un: undefined, big: 10n };
src.self = src;
const c = structuredClone(src);
out.sc = [c !== src, c.self === c, c.a[1].b, c.d.getTime(), String(c.r), c.m.get(1), c.s.has(2), Array.from(c.u), c.u instanceof Uint16Array, 'un' in c, typeof c.big];
try { structuredClone({ f() {} }); } catch (e) { out.scErr = e.name; }
try { structuredClone(Symbol('x')); } catch (e) { out.scErr2 = [e.name, e.message]; }
const b = Buffer.from('héllo wörld', 'utf8');
out.buf = [b.toString('hex'), b.toString('base64'), b.toString('base64url'), b.toString('latin1'), b.length, Buffer.byteLength('héllo'), b.toString('utf8', 1, 5)];
out.from = [Buffer.from('68656c6c6fzz', 'hex').toString(), Buffer.from('aGVsbG8-_w', 'base64url').toString('hex'), Buffer.from('aGVs bG8=', 'base64').toString(), Buffer.from('ÿé', 'latin1').toString('hex'), Buffer.from('ÿé', 'binary').toString('hex'), Buffer.from('ÿa', 'ascii').toString('hex'), Buffer.from([1, 2, 300]).toString('hex'), Buffer.from('héllo', 'ucs2').toString('hex')];
const x = Buffer.alloc(8);
x.writeUInt32BE(0xdeadbeef, 0); x.writeUInt16LE(0x1234, 4); x.writeUInt8(255, 6); x.writeInt8(-2, 7);
out.rw = [x.toString('hex'), x.readUInt32BE(0), x.readUInt32LE(0), x.readUInt16BE(4), x.readUInt16LE(4), x.readInt8(7), x.readInt32BE(0), x.readUInt8(6)];
try { x.readUInt32BE(6); } catch (e) { out.rangeErr = [e.name, e.code, e.message]; }
try { x.writeUInt8(256, 0); } catch (e) { out.valueErr = [e.name, e.code, e.message]; }
out.misc = [Buffer.concat([Buffer.from('ab'), Buffer.from('cd')]).toString(), Buffer.compare(Buffer.from('a'), Buffer.from('b')), Buffer.isBuffer(b), Buffer.isBuffer(new Uint8Array(1)), Buffer.isEncoding('HEX'), Buffer.isEncoding('nope'), Buffer.from('abc').equals(Buffer.from('abc')), JSON.stringify(Buffer.from('hi')), Buffer.from('hello').slice(1, 3).toString(), Buffer.from('hello').subarray(1).toString(), b instanceof Uint8Array, Buffer.alloc(3, 'ab').toString(), Buffer.from('hello').indexOf('ll'), Buffer.from('hello').includes('z')];
const w = Buffer.alloc(6); out.write = [w.write('h€', 1), w.toString('hex'), w.write('ffee', 4, 'hex'), w.toString('hex')];
try { Buffer.from(5); } catch (e) { out.fromErr = [e.name, e.code]; }
try { Buffer.from('x', 'nope'); } catch (e) { out.encErr = [e.name, e.code, e.message]; }
out.newBuffer = new Buffer('aGk=', 'base64').toString();
api.accessToken.setCustomClaim('out', out);
