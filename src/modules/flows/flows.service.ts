import { LookupCache } from '../../common/cache/lookup-cache.js';
import { HttpStatus, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { Clock } from '../../common/clock/clock.js';
import { AppError } from '../../common/errors/app-error.js';
import { paginate } from '../../common/http/pagination.js';
import { newId } from '../../common/ids/ids.js';
import type { CreateFlowDto, ListFlowsQueryDto, PatchFlowDto } from './dto/flow.dto.js';
import { Flow } from './entities/flow.entity.js';
import { FlowVersion } from './entities/flow-version.entity.js';
import type { FlowDefinition } from './flow-definition.js';
import type { StepDefinition } from './steps/step-type.js';
import { StepTypes } from './steps/step-types.service.js';
import { resolveSettings } from './flow-settings.js';
import { validateFlowSteps } from './flow-validation.js';
import { flowArchived, invalidFlow } from './flows.errors.js';
import { compilePattern } from './validators/tenant-regex.js';
import { AppConfig } from '../../config/app-config.js';

/** One version of a flow, as the engine needs it. */
export interface FlowVersionView {
  flowId: string;
  tenantId: string;
  version: number;
  status: Flow['status'];
  definition: FlowDefinition;
}

@Injectable()
export class FlowsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(FlowsService.name);
  /** The latest version of each flow, for starts (cached: LOOKUP_TTL_MS, dropped at once on a change here). */
  private readonly latest = new LookupCache<FlowVersionView | null>('flow-versions');

  constructor(
    @InjectRepository(Flow) private readonly flows: Repository<Flow>,
    @InjectRepository(FlowVersion) private readonly versions: Repository<FlowVersion>,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly clock: Clock,
    private readonly config: AppConfig,
    private readonly stepTypes: StepTypes,
  ) {}

  /** Lists (in the log, once per instance) the flows stored with a regex pattern that RE2 cannot run. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.config.WORKERS_ENABLED) await this.warnUnsupportedPatterns();
  }

  /**
   * Flows saved before patterns were checked may hold one RE2 cannot run (a backreference, lookaround): their
   * answers fail closed (`unsupported_pattern`, then `validation_failed` after the step's attempts) until a new
   * version fixes the pattern. Returns what it found (the latest version of each active flow).
   */
  async warnUnsupportedPatterns(): Promise<Array<{ flowId: string; version: number; stepId: string; reason: string }>> {
    const rows: Array<{ flow_id: string; tenant_id: string; version: number; step_id: string; pattern: string; flags: string | null }> = await this.dataSource.query(
      `SELECT f.id AS flow_id, f.tenant_id, v.version, s->>'id' AS step_id, s->'validator'->>'pattern' AS pattern, s->'validator'->>'flags' AS flags
         FROM flows f JOIN flow_versions v ON v.flow_id = f.id AND v.version = f.latest_version
         CROSS JOIN LATERAL jsonb_array_elements(v.definition->'steps') s
        WHERE f.status = 'active' AND s->'validator'->>'type' = 'regex'`,
    );
    const found = [];
    for (const r of rows) {
      const compiled = compilePattern(r.pattern ?? '', r.flags ?? '');
      if (compiled.ok) continue;
      found.push({ flowId: r.flow_id, version: r.version, stepId: r.step_id, reason: compiled.reason });
      this.logger.warn(
        { flowId: r.flow_id, tenantId: r.tenant_id, version: r.version, stepId: r.step_id, reason: compiled.reason },
        'a regex validator RE2 cannot run: its answers are refused (unsupported_pattern) until the flow gets a new version',
      );
    }
    return found;
  }

  async create(tenantId: string, dto: CreateFlowDto): Promise<{ flow: Flow; version: FlowVersion }> {
    const definition = await this.definition(tenantId, dto.name, dto.steps, resolveSettings(dto.settings));
    const now = this.clock.now();
    return this.dataSource.transaction(async (m) => {
      const flow = m.create(Flow, { id: newId('FLW'), tenantId, name: definition.name, status: 'active', latestVersion: 1, createdAt: now, updatedAt: now, archivedAt: null });
      await m.insert(Flow, flow);
      const version = m.create(FlowVersion, { flowId: flow.id, version: 1, definition, createdAt: now });
      await m.insert(FlowVersion, version);
      return { flow, version };
    });
  }

  /** PUT (`replace`): the new version is exactly the body. PATCH (`merge`): the body over the latest version. */
  async update(tenantId: string, id: string, dto: PatchFlowDto, mode: 'replace' | 'merge'): Promise<{ flow: Flow; version: FlowVersion }> {
    const updated = await this.dataSource.transaction(async (m) => {
      // The row lock serialises concurrent updates of one flow, so version numbers never collide.
      const flow = await m.findOne(Flow, { where: { id, tenantId }, lock: { mode: 'pessimistic_write' } });
      if (!flow) throw AppError.notFound('Flow', id);
      if (flow.status === 'archived') throw flowArchived(id);
      const current = (await m.findOneByOrFail(FlowVersion, { flowId: id, version: flow.latestVersion })).definition;
      const definition =
        mode === 'replace'
          ? await this.definition(tenantId, dto.name!, dto.steps!, resolveSettings(dto.settings))
          : await this.definition(tenantId, dto.name ?? current.name, dto.steps ?? current.steps, resolveSettings(dto.settings, current.settings));
      const now = this.clock.now();
      const version = m.create(FlowVersion, { flowId: id, version: flow.latestVersion + 1, definition, createdAt: now });
      await m.insert(FlowVersion, version);
      Object.assign(flow, { name: definition.name, latestVersion: version.version, updatedAt: now });
      await m.update(Flow, { id }, { name: flow.name, latestVersion: flow.latestVersion, updatedAt: now });
      return { flow, version };
    });
    this.latest.clear();
    return updated;
  }

  /** Archived flows can't be started or changed; their versions stay readable. Archiving twice is harmless. */
  async archive(tenantId: string, id: string): Promise<{ flow: Flow; version: FlowVersion }> {
    const now = this.clock.now();
    await this.flows
      .createQueryBuilder()
      .update(Flow)
      .set({ status: 'archived', archivedAt: now, updatedAt: now })
      .where('id = :id AND tenant_id = :tenantId AND status = :active', { id, tenantId, active: 'active' })
      .execute();
    this.latest.clear();
    return this.get(tenantId, id);
  }

  async get(tenantId: string, id: string, version?: number): Promise<{ flow: Flow; version: FlowVersion }> {
    const flow = await this.flows.findOneBy({ id, tenantId });
    if (!flow) throw AppError.notFound('Flow', id);
    const row = await this.versions.findOneBy({ flowId: id, version: version ?? flow.latestVersion });
    if (!row) throw AppError.notFound('Flow version', `${id} v${version}`);
    return { flow, version: row };
  }

  list(tenantId: string, query: ListFlowsQueryDto) {
    const qb = this.flows.createQueryBuilder('f').where('f.tenant_id = :tenantId', { tenantId });
    if (query.status) qb.andWhere('f.status = :status', { status: query.status });
    return paginate(qb, query);
  }

  /**
   * A flow version's parsed definition (the latest when `version` is omitted). Works for archived flows too:
   * processes already running keep the version they started with. 404 for another tenant's flow.
   */
  async getVersion(tenantId: string, flowId: string, version?: number): Promise<FlowVersionView> {
    const { flow, version: row } = await this.get(tenantId, flowId, version);
    return { flowId: flow.id, tenantId: flow.tenantId, version: row.version, status: flow.status, definition: row.definition };
  }

  /** The latest version of a flow that may start a new process; 409 FLOW_ARCHIVED when archived, 404 when unknown. */
  async assertStartable(tenantId: string, flowId: string): Promise<FlowVersionView> {
    const view = await this.latest.get(`${tenantId} ${flowId}`, () =>
      this.getVersion(tenantId, flowId).catch((err: unknown) => (err instanceof AppError && err.status === HttpStatus.NOT_FOUND ? null : Promise.reject(err))),
    );
    if (!view) throw AppError.notFound('Flow', flowId);
    if (view.status !== 'active') throw flowArchived(flowId);
    return view;
  }

  private async definition(tenantId: string, name: string, steps: unknown[], settings: FlowDefinition['settings']): Promise<FlowDefinition> {
    const problems = validateFlowSteps(steps, this.stepTypes.all());
    if (problems.length > 0) throw invalidFlow(problems);
    // Then what only the tenant's data can tell (a document that must exist, a provider that must be set up).
    const valid = steps as StepDefinition[];
    const found = await Promise.all(
      valid.map(async (step, i) => {
        const issues = (await this.stepTypes.of(step).verify?.(step, { tenantId, steps: valid })) ?? [];
        return issues.map(({ field, message }) => ({ field: `steps[${i}].${field}`, messages: [message] }));
      }),
    );
    if (found.flat().length > 0) throw invalidFlow(found.flat());
    return { name, steps: valid, settings };
  }
}
