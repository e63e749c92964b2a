/** Says what a file's first bytes look like, for the error that refuses an upload that is neither capture nor log. */
const MAGICS: { bytes: number[]; what: string }[] = [
  { bytes: [0x1f, 0x8b], what: 'a gzip-compressed file (gunzip it first)' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'a zstd-compressed file (decompress it first)' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'an xz-compressed file (decompress it first)' },
  { bytes: [0x42, 0x5a, 0x68], what: 'a bzip2-compressed file (decompress it first)' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive (extract the file first)' },
  { bytes: [0x7f, 0x45, 0x4c, 0x46], what: 'an ELF executable' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document' },
];

function printable(text: string): boolean {
  return !/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/.test(text);
}

export function describeFirstBytes(head: Uint8Array): string {
  if (head.length === 0) return 'empty (the file has no bytes)';
  for (const m of MAGICS) if (m.bytes.every((b, i) => head[i] === b)) return m.what;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head.subarray(0, 256));
  if (printable(text)) {
    const first = text.split('\n')[0]!.slice(0, 60);
    if (/^\s*[[{]/.test(text)) return `JSON text, starting ${JSON.stringify(first)} (provmon needs the raw audit.log, not a JSON export)`;
    if (/^----\s*$/m.test(text.slice(0, 200))) return `ausearch output, starting ${JSON.stringify(first)} (provmon needs the raw audit.log, not ausearch -i output)`;
    return `text, starting ${JSON.stringify(first)}`;
  }
  const hex = [...head.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `binary data starting with bytes ${hex}`;
}
