#!/usr/bin/env node
// Prints the SQL of a bgenix-style index (.bgi) of a BGEN file, for sqlite3 (bgenix itself is not packaged in
// Debian): the Metadata and Variant tables with bgenix's schema, one Variant row per variant (chromosome,
// position, rsid, number of alleles, first two alleles, file offset and byte size of the variant block).
// Timestamps are 0 so the output is deterministic.
//   node data/formats/make-bgi.mjs FILE.bgen | sqlite3 FILE.bgen.bgi
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const path = process.argv[2];
const b = readFileSync(path);
const q = (s) => `'${s.replace(/'/g, "''")}'`;
const lh = b.readUInt32LE(4);
const m = b.readUInt32LE(8);
const n = b.readUInt32LE(12);
const flags = b.readUInt32LE(4 + lh - 4);
const layout = (flags >>> 2) & 15;
const compressed = (flags & 3) !== 0;
const out = [
  'BEGIN;',
  'CREATE TABLE Metadata (filename TEXT NOT NULL, file_size INT NOT NULL, last_write_time INT NOT NULL, first_1000_bytes BLOB NOT NULL, index_creation_time INT NOT NULL);',
  'CREATE TABLE Variant (chromosome TEXT NOT NULL, position INT NOT NULL, rsid TEXT NOT NULL, number_of_alleles INT NOT NULL, allele1 TEXT NOT NULL, allele2 TEXT NOT NULL, file_start_position INT NOT NULL, size_in_bytes INT NOT NULL, PRIMARY KEY (chromosome, position, rsid, allele1, allele2, file_start_position)) WITHOUT ROWID;',
  `INSERT INTO Metadata VALUES (${q(basename(path))}, ${b.length}, 0, X'${b.subarray(0, 1000).toString('hex')}', 0);`,
];
let p = b.readUInt32LE(0) + 4;
for (let v = 0; v < m; v++) {
  const start = p;
  if (layout === 1) p += 4;
  const str = () => {
    const len = b.readUInt16LE(p);
    const s = b.toString('latin1', p + 2, p + 2 + len);
    p += 2 + len;
    return s;
  };
  str(); // SNP ID
  const rsid = str();
  const chr = str();
  const pos = b.readUInt32LE(p);
  p += 4;
  let k = 2;
  if (layout === 2) (k = b.readUInt16LE(p)), (p += 2);
  const alleles = [];
  for (let a = 0; a < k; a++) {
    const len = b.readUInt32LE(p);
    alleles.push(b.toString('latin1', p + 4, p + 4 + len));
    p += 4 + len;
  }
  p += layout === 1 && !compressed ? 6 * n : 4 + b.readUInt32LE(p);
  out.push(`INSERT INTO Variant VALUES (${q(chr)}, ${pos}, ${q(rsid)}, ${k}, ${q(alleles[0])}, ${q(alleles[1] ?? '')}, ${start}, ${p - start});`);
}
out.push('COMMIT;');
console.log(out.join('\n'));
