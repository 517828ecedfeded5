/**
 * POSIX ustar archives, as far as `kubectl cp` needs them: writing regular files and directories
 * (names up to 255 bytes through the prefix field; longer ones get a PAX `path` record), and
 * reading what Go's archive/tar writes (ustar, PAX `x` records for long names or sizes, GNU `L`
 * long names; global `g` records skipped). 512-byte blocks, two zero blocks at the end.
 */
const BLOCK = 512;

export interface TarEntry {
  /** Relative path; a directory's ends with '/'. */
  name: string;
  type: 'file' | 'directory';
  mode: number;
  mtime: number;
  content: Buffer;
}

export class TarError extends Error {}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, type: string, mode: number, size: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  block.write(base, 0, 100, 'utf8');
  block.write(octal(mode & 0o7777, 8), 100, 'latin1');
  block.write(octal(0, 8), 108, 'latin1'); // uid
  block.write(octal(0, 8), 116, 'latin1'); // gid
  block.write(octal(size, 12), 124, 'latin1');
  block.write(octal(Math.floor(mtime / 1000), 12), 136, 'latin1');
  block.write('        ', 148, 'latin1'); // checksum, counted as spaces
  block.write(type, 156, 'latin1');
  block.write('ustar\u000000', 257, 'latin1');
  block.write('root', 265, 'latin1');
  block.write('root', 297, 'latin1');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

function padded(content: Buffer): Buffer[] {
  const rest = content.length % BLOCK;
  return rest === 0 ? [content] : [content, Buffer.alloc(BLOCK - rest)];
}

function fitsUstar(name: string): boolean {
  if (Buffer.byteLength(name) <= 100) return true;
  const cut = name.lastIndexOf('/', name.length - 2);
  return cut > 0 && Buffer.byteLength(name.slice(0, cut)) <= 155 && Buffer.byteLength(name.slice(cut + 1)) <= 100;
}

export function writeTar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type === 'directory' ? '5' : '0';
    const content = entry.type === 'directory' ? Buffer.alloc(0) : entry.content;
    if (!fitsUstar(entry.name)) {
      // A record is "<length> key=value\n", its length counting its own digits.
      const record = (key: string, value: string) => {
        const body = ` ${key}=${value}\n`;
        const bodyLength = Buffer.byteLength(body);
        let length = bodyLength + 1;
        while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
        return `${length}${body}`;
      };
      const pax = Buffer.from(record('path', entry.name));
      parts.push(header('PaxHeader', 'x', 0o644, pax.length, entry.mtime), ...padded(pax));
    }
    parts.push(header(fitsUstar(entry.name) ? entry.name : entry.name.slice(-100), type, entry.mode, content.length, entry.mtime), ...padded(content));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
}

function number(block: Buffer, offset: number, length: number): number {
  // GNU base-256 for large values (high bit set).
  if (block[offset] & 0x80) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i];
    return value;
  }
  const text = field(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new TarError('archive/tar: invalid header');
  return Number.parseInt(text, 8);
}

function paxRecords(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset);
    if (space < 0) break;
    const length = Number(data.toString('latin1', offset, space));
    if (!(length > 0) || offset + length > data.length) throw new TarError('archive/tar: invalid PAX record');
    const record = data.toString('utf8', space + 1, offset + length - 1);
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/** The regular files and directories of an archive (links and devices are skipped). */
export function readTar(archive: Buffer): TarEntry[] {
  const entries: TarEntry[] = [];
  let offset = 0;
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const block = archive.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i];
    if (sum !== number(block, 148, 8)) throw new TarError('archive/tar: invalid header');
    const type = String.fromCharCode(block[156] || 0x30);
    const size = pax.size !== undefined ? Number(pax.size) : number(block, 124, 12);
    const start = offset + BLOCK;
    if (!Number.isSafeInteger(size) || size < 0 || start + Math.ceil(size / BLOCK) * BLOCK > archive.length) throw new TarError('unexpected EOF');
    const data = archive.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') {
      pax = { ...pax, ...paxRecords(data) };
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longName = data.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    const prefix = field(block, 345, 155);
    const name = pax.path ?? longName ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    const mode = number(block, 100, 8);
    const mtime = (pax.mtime !== undefined ? Number(pax.mtime) : number(block, 136, 12)) * 1000;
    pax = {};
    longName = undefined;
    if (type === '0' || type === '7') entries.push({ name, type: 'file', mode, mtime, content: Buffer.from(data) });
    else if (type === '5') entries.push({ name: name.endsWith('/') ? name : `${name}/`, type: 'directory', mode, mtime, content: Buffer.alloc(0) });
  }
  return entries;
}
