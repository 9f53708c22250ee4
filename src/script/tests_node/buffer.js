const out = {};
try { Buffer.alloc(2**32 + 1) } catch (e) { out.big = [e.name, e.code]; }
out.frac = Buffer.alloc(2.7).length;
out.al = Buffer.from({length: 2.5, 0: 1, 1: 2}).toString('hex');
out.fill = [Buffer.alloc(4, '').toString('hex'), Buffer.alloc(5, 'ab', 'utf8').toString(), Buffer.alloc(4, 257).toString('hex'), Buffer.alloc(3, Buffer.from([1,2])).toString('hex')];
out.write = (() => { const b = Buffer.alloc(4); return [b.write('abcdef'), b.toString(), b.write('zz', 3), b.toString()]; })();
out.cmp = [Buffer.from('b').compare(Buffer.from('a')), Buffer.from('abc').compare(Buffer.from('xbc'), 1, 3, 1, 3)];
out.copy = (() => { const a = Buffer.from('hello'), b = Buffer.alloc(3); return [a.copy(b, 1, 3), b.toString('hex')]; })();
out.idx = [Buffer.from('abcabc').indexOf('c', 3), Buffer.from('abcabc').indexOf(Buffer.from('bc')), Buffer.from('abc').indexOf(99), Buffer.from('abc').includes('d'), Buffer.from('abc').indexOf('')];
out.signed = (() => { const b = Buffer.alloc(4); b.writeInt16BE(-2, 0); b.writeInt16LE(-300, 2); return [b.toString('hex'), b.readInt16BE(0), b.readInt16LE(2), b.readInt32LE(0)]; })();
out.uint = (() => { const b = Buffer.alloc(4); b.writeUint32LE(0x01020304); return [b.toString('hex'), b.readUint32LE(0), b.readUint16BE(1)]; })();
try { Buffer.alloc(2).writeInt8(-129) } catch (e) { out.i8 = [e.code, e.message]; }
try { Buffer.alloc(4).writeInt32BE(2**31) } catch (e) { out.i32 = [e.code, e.message]; }
try { Buffer.alloc(4).writeUInt32BE(-1) } catch (e) { out.u32 = [e.code, e.message]; }
try { Buffer.alloc(2).readUInt8(1.5) } catch (e) { out.frOff = [e.code, e.message]; }
try { Buffer.alloc(2).readUInt8('1') } catch (e) { out.strOff = [e.code, e.message]; }
out.ascii = Buffer.from([0xe9, 0x41]).toString('ascii');
out.latinRound = Buffer.from(Buffer.from([0, 127, 128, 255]).toString('latin1'), 'latin1').toString('hex');
out.b64url = [Buffer.from([0xfb, 0xff]).toString('base64'), Buffer.from([0xfb, 0xff]).toString('base64url'), Buffer.from('+/8', 'base64').toString('hex'), Buffer.from('-_8', 'base64').toString('hex')];
out.utf16 = Buffer.from('\u{1F600}', 'utf16le').toString('utf16le') === '\u{1F600}';
out.bl = [Buffer.byteLength('€'), Buffer.byteLength('aGk=', 'base64'), Buffer.byteLength('abcd', 'hex'), Buffer.byteLength(new ArrayBuffer(3)), Buffer.byteLength(new Uint16Array(2))];
out.isBuf = [Buffer.isBuffer(Buffer.from('x').subarray(0)), Buffer.from('x').subarray(0) instanceof Buffer, Buffer.from('hello').map((x) => x + 1) instanceof Buffer];
out.toJSONempty = JSON.stringify(Buffer.alloc(0));
out.fromBuf = (() => { const a = Buffer.from('ab'); const b = Buffer.from(a); b[0] = 0; return a.toString(); })();
out.fromAB = (() => { const ab = new ArrayBuffer(4); const b = Buffer.from(ab, 1, 2); b[0] = 9; return [b.length, new Uint8Array(ab)[1]]; })();
out.strObj = Buffer.from(new String('hi')).toString();
out.concat = [Buffer.concat([Buffer.from('ab'), Buffer.from('cd')], 3).toString(), Buffer.concat([Buffer.from('ab')], 4).toString('hex'), Buffer.concat([]).length];
api.accessToken.setCustomClaim('out', out);
