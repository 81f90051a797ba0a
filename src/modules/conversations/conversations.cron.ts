import { Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { DataSource } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import type { CronRun } from '../../common/workers/cron-run.js';
import { Workers } from '../../common/workers/workers.js';
import { ConversationsService } from './conversations.service.js';
import { Process } from './entities/process.entity.js';

const BATCH = 100;

/** Expires processes whose time ran out: claimed with SKIP LOCKED, so every instance can run it. */
@Injectable()
export class ConversationsCron {
  private readonly runs: CronRun;
  private readonly evidenceRuns: CronRun;

  constructor(
    private readonly ds: DataSource,
    private readonly clock: Clock,
    private readonly conversations: ConversationsService,
    workers: Workers,
  ) {
    this.runs = workers.cron(ConversationsCron.name, () => this.expireDue());
    this.evidenceRuns = workers.cron(`${ConversationsCron.name}.evidence`, () => this.appendDeferred());
  }

  @Interval(5_000)
  tick(): Promise<void> {
    return this.runs.run();
  }

  @Interval(1_000)
  evidenceTick(): Promise<void> {
    return this.evidenceRuns.run();
  }

  /**
   * Appends the evidence other modules deferred (statuses, hooks delivered, follow-ups) to each process's chain, one
   * process per transaction under its row lock; returns how many processes. Safe on every instance: a process whose
   * row another holds is skipped this round.
   */
  async appendDeferred(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await this.conversations.processesWithDeferredEvidence(this.ds.manager, BATCH);
      let done = 0;
      for (const id of ids) if (await this.ds.transaction((m) => this.conversations.appendDeferred(m, id))) done++;
      total += done;
      if (ids.length < BATCH || done === 0) return total;
    }
  }

  /** Expires every due process; returns how many. */
  async expireDue(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.ds.transaction(async (m) => {
        const due = await m
          .createQueryBuilder(Process, 'p')
          .where(`p.status = 'pending' AND p.expires_at <= :now`, { now: this.clock.now() })
          .orderBy('p.expires_at')
          .limit(BATCH)
          .setLock('pessimistic_write')
          .setOnLocked('skip_locked')
          .getMany();
        await this.conversations.expire(m, due);
        return due.length;
      });
      total += n;
      if (n < BATCH) return total;
    }
  }
}
