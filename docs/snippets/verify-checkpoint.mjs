// Checks a process's evidence against its signed checkpoint, with node:crypto only:
//   curl -s -H "X-API-Key: $KEY" localhost:3000/v1/processes/$ID/evidence > evidence.json
//   curl -s localhost:3000/v1/signing/certificates > chain.pem
//   node verify-checkpoint.mjs evidence.json chain.pem
// Exits 0 when the checkpoint's signature verifies and the inclusion proof puts the event's leaf under its root.
import { createHash, verify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const [evidenceFile, chainFile] = process.argv.slice(2);
const { events, checkpoint: c, inclusion_proof: proof } = JSON.parse(readFileSync(evidenceFile, 'utf8'));
if (!c) {
  console.log('no checkpoint covers this process yet');
  process.exit(2);
}

const H = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();

// RFC 9162 §2.1.3.2: the leaf is SHA-256(0x00 ‖ event hash), a node SHA-256(0x01 ‖ left ‖ right).
function included(eventHash, index, size, path, root) {
  let fn = index;
  let sn = size - 1;
  let r = H(Buffer.from([0]), Buffer.from(eventHash, 'hex'));
  for (const p of path.map((x) => Buffer.from(x, 'hex'))) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = H(Buffer.from([1]), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = H(Buffer.from([1]), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('hex') === root;
}

// What is signed: the RFC 8785 JSON of these four members. With keys in this (sorted) order, ASCII strings and an
// integer, JSON.stringify gives exactly those bytes.
const signed = JSON.stringify({ issued_at: c.issued_at, root_hash: c.root_hash, tenant_id: c.tenant_id, tree_size: c.tree_size });
const signingCertificate = new X509Certificate(readFileSync(chainFile, 'utf8').split(/(?=-----BEGIN CERTIFICATE-----)/)[0]);
const signatureOk = verify('sha256', Buffer.from(signed), signingCertificate.publicKey, Buffer.from(c.signature, 'base64'));
const event = events.find((e) => e.seq === c.seq);
const inclusionOk = !!event && included(event.hash, c.leaf_index, c.tree_size, proof, c.root_hash);

console.log(JSON.stringify({ tree_size: c.tree_size, seq: c.seq, signature: signatureOk, inclusion: inclusionOk }));
process.exit(signatureOk && inclusionOk ? 0 : 1);
