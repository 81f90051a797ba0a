import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, ModulesContainer } from '@nestjs/core';
import { RegisterStepType, type StepDefinition, type StepType, type StepTypeMeta } from './step-type.js';

export interface RegisteredStepType {
  meta: StepTypeMeta;
  type: StepType;
}

/** The step-type registry: every provider marked `@RegisterStepType`, found once at start. */
@Injectable()
export class StepTypes implements OnModuleInit {
  private readonly byName = new Map<string, RegisteredStepType>();

  constructor(private readonly discovery: DiscoveryService) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders({ metadataKey: RegisterStepType.KEY })) {
      const meta = this.discovery.getMetadataByDecorator(RegisterStepType, wrapper);
      if (!meta || !wrapper.instance) continue;
      if (this.byName.has(meta.type)) throw new Error(`two step types are registered as '${meta.type}'`);
      this.byName.set(meta.type, { meta, type: wrapper.instance as StepType });
    }
  }

  /** The registered types by name, for flow validation. */
  all(): ReadonlyMap<string, RegisteredStepType> {
    return this.byName;
  }

  /** The type of a stored step; a step of an unregistered type (its module removed) is a programming error. */
  of<S extends StepDefinition>(step: S): StepType<S> {
    const registered = this.byName.get(step.type);
    if (!registered) throw new Error(`no step type '${step.type}' is registered (step '${step.id}')`);
    return registered.type as StepType<S>;
  }
}

/**
 * The metadata of every step type of an application, read from its module graph without creating any provider (the
 * OpenAPI document is built in preview mode).
 */
export function stepTypeMetas(modules: ModulesContainer): StepTypeMeta[] {
  const discovery = new DiscoveryService(modules);
  const metas = discovery.getProviders({ metadataKey: RegisterStepType.KEY }).map((w) => discovery.getMetadataByDecorator(RegisterStepType, w)!);
  return [...new Map(metas.map((m) => [m.type, m])).values()].sort((a, b) => a.type.localeCompare(b.type));
}
