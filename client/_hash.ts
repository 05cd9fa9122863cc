// Hash functions for key routing: IEEE CRC-32 (python-memcached) and MD5
// (libmemcached's ketama). Both are synchronous, work on bytes, and allocate
// nothing per call.

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/**
 * IEEE CRC-32 (zlib's, python's `binascii.crc32`) of `data[start:end]`, as an
 * unsigned 32-bit number.
 */
export function crc32(data: Uint8Array, start = 0, end: number = data.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// RFC 1321: per-step constants floor(|sin(i + 1)| * 2^32) and rotations.
const K = new Int32Array(64);
for (let i = 0; i < 64; i++) K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 0x100000000) | 0;
const S = new Int32Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

// One block as 16 little-endian words, and the running state. A fully
// unrolled round measured only ~10% faster on 16-byte keys, so it stays a loop.
const X = new Int32Array(16);
const STATE = new Int32Array(4);

function compress(data: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const j = offset + i * 4;
    X[i] = data[j] | (data[j + 1] << 8) | (data[j + 2] << 16) | (data[j + 3] << 24);
  }
  let a = STATE[0], b = STATE[1], c = STATE[2], d = STATE[3];
  for (let i = 0; i < 64; i++) {
    let f: number, g: number;
    if (i < 16) {
      f = (b & c) | (~b & d);
      g = i;
    } else if (i < 32) {
      f = (d & b) | (~d & c);
      g = (5 * i + 1) & 15;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = (3 * i + 5) & 15;
    } else {
      f = c ^ (b | ~d);
      g = (7 * i) & 15;
    }
    const s = S[((i >> 4) << 2) | (i & 3)];
    const t = (a + f + K[i] + X[g]) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((t << s) | (t >>> (32 - s)))) | 0;
  }
  STATE[0] = (STATE[0] + a) | 0;
  STATE[1] = (STATE[1] + b) | 0;
  STATE[2] = (STATE[2] + c) | 0;
  STATE[3] = (STATE[3] + d) | 0;
}

// The last one or two blocks: the remaining bytes, 0x80, zeros, the bit length.
const TAIL = new Uint8Array(128);

/**
 * MD5 of `data`, written into `out` as the digest's four 32-bit
 * little-endian words: `out[0]` is bytes 0..3 read little-endian, which is
 * what libmemcached's `hashkit_md5` and `ketama_server_hash` return.
 */
export function md5Words(data: Uint8Array, out: Uint32Array): void {
  const length = data.length;
  STATE[0] = 0x67452301;
  STATE[1] = 0xefcdab89 | 0;
  STATE[2] = 0x98badcfe | 0;
  STATE[3] = 0x10325476;
  const full = length - (length & 63);
  for (let offset = 0; offset < full; offset += 64) compress(data, offset);
  const rest = length - full;
  const end = rest < 56 ? 64 : 128;
  for (let i = 0; i < rest; i++) TAIL[i] = data[full + i];
  TAIL[rest] = 0x80;
  TAIL.fill(0, rest + 1, end - 8);
  // The message length in bits, as a 64-bit little-endian number.
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 0x20000000);
  for (let i = 0; i < 4; i++) {
    TAIL[end - 8 + i] = bitsLow >>> (8 * i);
    TAIL[end - 4 + i] = bitsHigh >>> (8 * i);
  }
  for (let offset = 0; offset < end; offset += 64) compress(TAIL, offset);
  out[0] = STATE[0];
  out[1] = STATE[1];
  out[2] = STATE[2];
  out[3] = STATE[3];
}
