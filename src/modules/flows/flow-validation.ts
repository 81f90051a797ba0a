/**
 * Whole-flow validation: each step's shape (by its type's spec), then the graph. Pure; returns every problem as
 * `{field: 'steps[2].options', messages: ["steps[2] (id 'menu'): …"]}` so clients can point at the step.
 *
 * Graph rules:
 * - step ids are unique; every `next` (step or option) names an existing step;
 * - a flow never runs off its end: a step whose path continues past the last step is an error (the outcome and
 *   closing text of a process are always explicit, given by an `end` step);
 * - every step can reach an `end` step along normal answers (a consent's decline and a question's exhausted
 *   attempts are failure exits, not ways out of a loop): a loop with no branch leaving it is an error;
 * - every step is reachable from the first one (an unreachable step is a broken branch).
 */
import type { FieldError } from '../../common/errors/app-error.js';
import { LIMITS, STEP_ID } from './flow-definition.js';
import type { StepChecker, StepDefinition, StepType } from './steps/step-type.js';

/** The step types a flow may use, by name (`StepTypes.all()`). */
export type StepTypesByName = ReadonlyMap<string, { type: StepType }>;

interface Issue {
  field: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function checkerFor(step: Record<string, unknown>, prefix: string, label: string, issues: Issue[]): StepChecker {
  const error = (field: string, message: string) => issues.push({ field: `${prefix}.${field}`, message: `${label}: ${message}` });
  // `options[1].title` → step.options[1].title
  const get = (field: string): unknown =>
    field
      .replace(/\[(\d+)\]/g, '.$1')
      .split('.')
      .reduce<unknown>((v, k) => (isObject(v) || Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined), step);
  return {
    error,
    text(field, max, optional = false) {
      const v = get(field);
      if (v === undefined && optional) return;
      if (typeof v !== 'string' || v.trim() === '') return error(field, `${field} must be a non-empty string`);
      const length = [...v].length;
      if (length > max) error(field, `${field} must be at most ${max} characters, got ${length}`);
    },
    oneOf(field, values, optional = false) {
      const v = get(field);
      if (v === undefined && optional) return;
      if (typeof v !== 'string' || !values.includes(v)) error(field, `${field} must be one of: ${values.join(', ')}`);
    },
    int(field, min, max, optional = false) {
      const v = get(field);
      if (v === undefined && optional) return;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) error(field, `${field} must be an integer from ${min} to ${max}`);
    },
    num(field, optional = false) {
      const v = get(field);
      if (v === undefined && optional) return;
      if (typeof v !== 'number' || !Number.isFinite(v)) error(field, `${field} must be a number`);
    },
    httpsUrl(field, optional = false) {
      const v = get(field);
      if (v === undefined && optional) return;
      let ok: boolean;
      try {
        ok = typeof v === 'string' && v.length <= 2000 && new URL(v).protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) error(field, `${field} must be an https URL`);
    },
  };
}

const labelOf = (i: number, step: unknown) => (isObject(step) && typeof step.id === 'string' ? `steps[${i}] (id '${step.id}')` : `steps[${i}]`);

function checkShapes(steps: unknown[], types: StepTypesByName, issues: Issue[]): void {
  const seen = new Map<string, number>();
  steps.forEach((step, i) => {
    const prefix = `steps[${i}]`;
    const label = labelOf(i, step);
    if (!isObject(step)) return issues.push({ field: prefix, message: `${label}: must be an object with id and type` });
    const c = checkerFor(step, prefix, label, issues);
    if (typeof step.id !== 'string' || !STEP_ID.test(step.id) || step.id.length > LIMITS.stepId) {
      c.error('id', `id must be 1 to ${LIMITS.stepId} letters, digits, _ or -`);
    } else if (seen.has(step.id)) {
      c.error('id', `id '${step.id}' is already used by steps[${seen.get(step.id)}]`);
    } else {
      seen.set(step.id, i);
    }
    const spec = typeof step.type === 'string' ? types.get(step.type)?.type : undefined;
    if (!spec) return c.error('type', `type must be one of: ${[...types.keys()].join(', ')}`);
    for (const key of Object.keys(step)) {
      if (key !== 'id' && key !== 'type' && !spec.fields.includes(key)) c.error(key, `${key} is not a field of a ${String(step.type)} step`);
    }
    if (step.next !== undefined && typeof step.next !== 'string') c.error('next', 'next must be a step id');
    spec.check(step, c);
  });
}

/** Successor indexes of each step; records unknown targets and runs off the end. */
function buildGraph(steps: StepDefinition[], exitsOf: (s: StepDefinition) => ReturnType<StepType['exits']>, issues: Issue[]): number[][] {
  const index = new Map(steps.map((s, i) => [s.id, i]));
  return steps.map((step, i) => {
    const label = labelOf(i, step);
    const successors = new Set<number>();
    const exits = exitsOf(step);
    let ranOff = false;
    for (const exit of exits) {
      if (exit.next !== undefined) {
        const target = index.get(exit.next);
        if (target === undefined) issues.push({ field: `steps[${i}].${exit.field}`, message: `${label}: ${exit.field} '${exit.next}' is not the id of a step` });
        else successors.add(target);
      } else if (i + 1 < steps.length) {
        successors.add(i + 1);
      } else if (!ranOff) {
        ranOff = true;
        issues.push({
          field: `steps[${i}]`,
          message: `${label}: the flow runs off its end after this step; make the last step an end step or give it a next`,
        });
      }
    }
    return [...successors];
  });
}

function checkGraph(steps: StepDefinition[], types: StepTypesByName, issues: Issue[]): void {
  const before = issues.length;
  const exitsOf = (s: StepDefinition) => types.get(s.type)!.type.exits(s);
  const successors = buildGraph(steps, exitsOf, issues);
  if (issues.length > before) return;

  // Steps that can reach an end: walk the edges backwards from every end step.
  const predecessors: number[][] = steps.map(() => []);
  successors.forEach((next, i) => next.forEach((j) => predecessors[j].push(i)));
  const reachesEnd = new Set<number>();
  // A step with no exit finishes the process (an `end`).
  const queue = steps.flatMap((s, i) => (exitsOf(s).length === 0 ? [i] : []));
  queue.forEach((i) => reachesEnd.add(i));
  while (queue.length > 0) {
    for (const p of predecessors[queue.pop()!]) {
      if (!reachesEnd.has(p)) {
        reachesEnd.add(p);
        queue.push(p);
      }
    }
  }
  steps.forEach((step, i) => {
    if (reachesEnd.has(i)) return;
    issues.push({
      field: `steps[${i}]`,
      message: `${labelOf(i, step)}: can never reach an end step, it loops without exit (${describeLoop(i, successors, steps)})`,
    });
  });

  // Steps reachable from the first one.
  const reached = new Set<number>([0]);
  const stack = [0];
  while (stack.length > 0) {
    for (const j of successors[stack.pop()!]) {
      if (!reached.has(j)) {
        reached.add(j);
        stack.push(j);
      }
    }
  }
  steps.forEach((step, i) => {
    if (!reached.has(i)) issues.push({ field: `steps[${i}]`, message: `${labelOf(i, step)}: is never reached from the first step` });
  });
}

/** From a step that cannot reach an end, follow the way until a step repeats: that is the loop. */
function describeLoop(start: number, successors: number[][], steps: StepDefinition[]): string {
  const path: number[] = [];
  const at = new Map<number, number>();
  let i = start;
  while (!at.has(i)) {
    at.set(i, path.length);
    path.push(i);
    i = successors[i][0];
  }
  return [...path.slice(at.get(i)), i].map((j) => steps[j].id).join(' → ');
}

function group(issues: Issue[]): FieldError[] {
  const byField = new Map<string, string[]>();
  for (const { field, message } of issues) byField.set(field, [...(byField.get(field) ?? []), message]);
  return [...byField].map(([field, messages]) => ({ field, messages }));
}

/** Every problem of a flow's steps, checked with the registered step `types`; empty when they form a valid flow. */
export function validateFlowSteps(steps: unknown, types: StepTypesByName): FieldError[] {
  if (!Array.isArray(steps) || steps.length === 0) return [{ field: 'steps', messages: ['steps must be a non-empty array'] }];
  if (steps.length > LIMITS.steps) return [{ field: 'steps', messages: [`steps: a flow has at most ${LIMITS.steps} steps, got ${steps.length}`] }];
  const issues: Issue[] = [];
  checkShapes(steps, types, issues);
  if (issues.length === 0) checkGraph(steps as StepDefinition[], types, issues);
  return group(issues);
}
