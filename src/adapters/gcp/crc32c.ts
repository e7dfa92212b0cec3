/** CRC32C (Castagnoli), the checksum Cloud KMS uses for end-to-end integrity of requests and responses. */

let table: Uint32Array | undefined

function crcTable(): Uint32Array {
  if (table) return table
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  table = t
  return t
}

export function crc32c(data: Uint8Array | string): number {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
  const t = crcTable()
  let crc = 0xffffffff
  for (const b of bytes) crc = (t[(crc ^ b) & 0xff] ?? 0) ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}
