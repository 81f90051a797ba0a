// A receiver of Testigo hooks that verifies each delivery (Standard Webhooks) with node:crypto alone.
// Run: TESTIGO_HOOK_SECRET=whsec_… PORT=8787 node docs/snippets/verify-hook.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const TOLERANCE_SECONDS = 5 * 60; // older or newer timestamps are refused: replays

/** Returns the event when a signature verifies with `secret` (`whsec_…`), else throws. */
export function verifyHook(secret, rawBody, headers, nowMs = Date.now()) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) throw new Error('missing webhook-id, webhook-timestamp or webhook-signature');
  if (!/^\d+$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS) throw new Error('timestamp too old or too new');
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.`).update(rawBody).digest();
  // The header holds one or more space-separated `v1,<base64>` signatures (two for 24 h after a secret rotation).
  const verified = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',');
    const given = Buffer.from(signature ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!verified) throw new Error('no signature verifies');
  return JSON.parse(rawBody.toString('utf8'));
}

// Run as a script: a receiver on 127.0.0.1:$PORT that answers 204 to verified deliveries and 401 to the others.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', () => {
      let event;
      try {
        event = verifyHook(process.env.TESTIGO_HOOK_SECRET, Buffer.concat(chunks), req.headers);
      } catch (err) {
        console.log(`refused: ${err.message}`);
        res.writeHead(401).end();
        return;
      }
      // Deliveries are at least once: dedupe on event.id (the webhook-id header) before acting on event.type/data.
      console.log(`verified ${event.type} ${event.id}`);
      res.writeHead(204).end();
    });
  });
  server.listen(Number(process.env.PORT ?? 8787), '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
}
