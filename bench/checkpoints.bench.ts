import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { OutgoingHttp } from '../src/common/http/outgoing-http.js';
import { DnsHostResolver } from '../src/common/http/url-guard.js';
import { loadConfig } from '../src/config/app-config.js';
import { dataSourceOptions } from '../src/database/data-source.js';
import { EvidenceCheckpoint } from '../src/modules/evidence/entities/evidence-checkpoint.entity.js';
import { EvidenceCheckpoints } from '../src/modules/evidence/evidence-checkpoints.service.js';
import { FileSigningKey } from '../src/signing/file-signing-key.adapter.js';
import { FakeClock } from '../test/support/fake-clock.js';
import { benchDatabase, percentile, timed } from './support.js';

/** Leaves in the tenant's tree before the measured checkpoints (BENCH_LEAVES). */
const LEAVES = Number(process.env.BENCH_LEAVES ?? 1_000_000);
/** Events added before each measured checkpoint. */
const ADDED = 1_000;
const TENANT = 'TNTBENCH';

/**
 * A tenant's evidence tree of a million leaves: the time of a checkpoint (the job's run for one tenant: the new
 * events' leaves and nodes, the root from the frontier, the signature, the stored checkpoint) and of a process's
 * inclusion proof (latest checkpoint, the process's leaf, the O(log n) nodes in one query, the proof).
 */
export default async function run(): Promise<void> {
  const db = await benchDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'testigo-bench-checkpoints-'));
  const ds = new DataSource({ ...dataSourceOptions(db.url, 4), entities: [EvidenceCheckpoint] });
  await ds.initialize();
  try {
    const config = loadConfig({ DATA_DIR: dataDir, ALLOW_LOCAL_URLS: 'true', SIGNING_TRIAL: 'true', DATABASE_URL: db.url });
    const clock = new FakeClock();
    const checkpoints = new EvidenceCheckpoints(ds, clock, config, new FileSigningKey(config), new OutgoingHttp(config, new DnsHostResolver()));
    // Queued as the events' INSERT queues them: 20 events per process.
    let next = 1;
    const queue = (n: number) =>
      ds.query(
        `INSERT INTO evidence_leaf_queue (event_id, tenant_id, process_id, seq, event_hash)
         SELECT g, $1, 'PRC' || (g / 20), g % 20 + 1, encode(sha256(g::text::bytea), 'hex') FROM generate_series($2::bigint, $3::bigint) AS g`,
        [TENANT, next, (next += n) - 1],
      );
    await queue(LEAVES);
    const t0 = performance.now();
    await checkpoints.runTenant(TENANT, { wait: true });
    const built = (performance.now() - t0) / 1000;
    console.log(`${LEAVES} leaves taken from the queue into the tree in ${built.toFixed(1)} s (${(LEAVES / built).toFixed(0)} leaves/s)`);

    // The events' own INSERT is not the checkpoint's work: queued first, then the job's run is timed.
    const runs: number[] = [];
    for (let r = 0; r < 25; r++) {
      await queue(ADDED);
      clock.advance(61_000);
      const s = performance.now();
      if (!(await checkpoints.runTenant(TENANT, { wait: true }))) throw new Error('no checkpoint was issued');
      if (r >= 5) runs.push(performance.now() - s); // 5 warm-up runs, as timed() does
    }
    runs.sort((a, b) => a - b);
    console.log(
      `${`checkpoint of ${ADDED} new events over ${(LEAVES / 1e6).toFixed(1)}M leaves`.padEnd(52)} ${percentile(runs, 50).toFixed(1).padStart(7)} ms ${percentile(runs, 99).toFixed(1).padStart(7)} ms (p50, max of ${runs.length})`,
    );
    const size = Number((await ds.query(`SELECT size FROM evidence_trees WHERE tenant_id = $1`, [TENANT]))[0].size);
    let i = 0;
    await timed(`inclusion proof of a process's latest event (tree ${size})`, 500, async () => {
      const processId = `PRC${Math.floor((((i++ * 7919) % size) + 1) / 20)}`;
      const inclusion = await checkpoints.inclusion(ds.manager, TENANT, processId);
      if (!inclusion || inclusion.proof.length === 0) throw new Error(`no inclusion proof for ${processId}`);
    });
    await timed('verify check of a process (proof + signature)', 200, async () => {
      const processId = `PRC${Math.floor((((i++ * 7919) % size) + 1) / 20)}`;
      const rows: Array<{ seq: number; hash: string }> = await ds.query(
        `SELECT l.seq, q.h AS hash FROM evidence_leaves l, LATERAL (SELECT encode(sha256(l.event_id::text::bytea), 'hex') AS h) q WHERE l.process_id = $1`,
        [processId],
      );
      if ((await checkpoints.checkProcess(ds.manager, TENANT, processId, rows)) !== true) throw new Error(`${processId} does not verify`);
    });
  } finally {
    await ds.destroy();
    await db.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
