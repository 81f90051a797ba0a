import dagre from '@dagrejs/dagre';
import { useMemo, useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../api';
import { go, href } from '../router';
import { Empty, ErrorBox, Loading, Status, time, toApiError, useAsync } from '../ui';
import type { ApiError } from '../api';

type Step = Record<string, any> & { id: string; type: string };

const EXAMPLE: Step[] = [
  { id: 'terms', type: 'consent', text: '¿Aceptas el tratamiento de tus datos?' },
  { id: 'email', type: 'question', text: '¿Tu correo?', validator: { type: 'email' }, error_text: 'Ese correo no es válido' },
  { id: 'done', type: 'end', outcome: 'succeeded', text: '¡Listo!' },
];

/** Each step's exits: its own `next` or the following step, each option's `next`, and a consent's decline. */
function edges(steps: Step[]): Array<{ from: string; to: string; label?: string }> {
  const out: Array<{ from: string; to: string; label?: string }> = [];
  steps.forEach((s, i) => {
    if (s.type === 'end') return;
    const following = s.next ?? steps[i + 1]?.id;
    if (s.type === 'choice' && Array.isArray(s.options)) {
      for (const o of s.options) {
        const to = o.next ?? following;
        if (to) out.push({ from: s.id, to, label: o.title });
      }
      return;
    }
    if (s.type === 'consent') {
      if (following) out.push({ from: s.id, to: following, label: s.accept_title ?? 'accept' });
      out.push({ from: s.id, to: '__declined', label: s.decline_title ?? 'decline' });
      return;
    }
    if (following) out.push({ from: s.id, to: following });
  });
  return out;
}

const NODE_W = 170;
const NODE_H = 52;

/** The flow drawn with dagre's layered layout; steps named in `faults` are marked. */
export function FlowDiagram({ steps, faults }: { steps: Step[]; faults: Set<string> }) {
  const layout = useMemo(() => {
    const g = new dagre.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 50, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(() => ({}));
    const list = edges(steps);
    const ids = new Set(steps.map((s) => s.id));
    for (const s of steps) g.setNode(s.id, { width: NODE_W, height: NODE_H });
    if (list.some((e) => e.to === '__declined')) g.setNode('__declined', { width: NODE_W, height: NODE_H });
    list.forEach((e, i) => {
      if (ids.has(e.to) || e.to === '__declined') g.setEdge(e.from, e.to, { label: e.label, width: e.label ? 60 : 0, height: e.label ? 16 : 0 }, String(i));
    });
    dagre.layout(g);
    return g;
  }, [steps]);
  const graph = layout.graph();
  const byId = new Map(steps.map((s) => [s.id, s]));
  return (
    <svg
      class="diagram"
      role="img"
      aria-label={`Diagram of ${steps.length} steps`}
      viewBox={`0 0 ${graph.width ?? 0} ${graph.height ?? 0}`}
      width={graph.width}
      height={graph.height}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
        </marker>
      </defs>
      {layout.edges().map((e) => {
        const edge = layout.edge(e) as { points: Array<{ x: number; y: number }>; label?: string; x?: number; y?: number };
        return (
          <g key={`${e.v}-${e.w}-${e.name}`}>
            <polyline class="edge" points={edge.points.map((p) => `${p.x},${p.y}`).join(' ')} marker-end="url(#arrow)" />
            {edge.label && (
              <text class="edge-label" x={edge.x} y={edge.y} text-anchor="middle">
                {edge.label}
              </text>
            )}
          </g>
        );
      })}
      {layout.nodes().map((id) => {
        const n = layout.node(id);
        const step = byId.get(id);
        const label = step ? `${step.id} (${step.type})` : 'failed: declined';
        return (
          <g key={id} class={`node node-${step?.type ?? 'end'}${faults.has(id) ? ' fault' : ''}`} data-step={id}>
            <rect x={n.x - NODE_W / 2} y={n.y - NODE_H / 2} width={NODE_W} height={NODE_H} rx="8" />
            <text x={n.x} y={n.y + 5} text-anchor="middle">
              {label.length > 24 ? label.slice(0, 23) + '…' : label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}

/** The steps named by validation errors (`steps[2].validator` → the third step's id). */
function faultsOf(error: ApiError | null, steps: Step[]): Map<string, string[]> {
  const faults = new Map<string, string[]>();
  for (const d of error?.details ?? []) {
    const m = /^steps\[(\d+)\]/.exec(d.field);
    const step = m ? steps[Number(m[1])] : undefined;
    if (step) faults.set(step.id, [...(faults.get(step.id) ?? []), ...d.messages]);
  }
  return faults;
}

function parse(json: string): { steps: Step[] | null; error: string | null } {
  try {
    const value = JSON.parse(json) as unknown;
    if (!Array.isArray(value)) return { steps: null, error: 'The steps must be a JSON array' };
    return { steps: value as Step[], error: null };
  } catch (e) {
    return { steps: null, error: (e as Error).message };
  }
}

function Editor({ flow, onSaved }: { flow?: Schemas['FlowDto']; onSaved(id: string): void }) {
  const [name, setName] = useState(flow?.name ?? '');
  const [json, setJson] = useState(JSON.stringify(flow?.steps ?? EXAMPLE, null, 2));
  const [error, setError] = useState<ApiError | null>(null);
  const [saved, setSaved] = useState(false);
  const parsed = parse(json);
  const steps = parsed.steps ?? [];
  const faults = faultsOf(error, steps);
  const save = async (e: Event) => {
    e.preventDefault();
    if (!parsed.steps) return;
    try {
      const body = { name, steps: parsed.steps as never };
      const result = flow
        ? await ok(api.PUT('/v1/flows/{id}', { params: { path: { id: flow.id } }, body: { steps: body.steps, name } as never }))
        : await ok(api.POST('/v1/flows', { body }));
      setError(null);
      setSaved(true);
      onSaved(result.id);
    } catch (err) {
      setSaved(false);
      setError(toApiError(err));
    }
  };
  return (
    <form class="flow-editor" onSubmit={save}>
      <label for="flow-name">Name</label>
      <input id="flow-name" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
      <div class="split">
        <div>
          <label for="flow-steps">Steps (JSON)</label>
          <textarea id="flow-steps" rows={24} spellcheck={false} value={json} onInput={(e) => setJson(e.currentTarget.value)} />
          {parsed.error && (
            <p class="error" role="alert">
              Not valid JSON: {parsed.error}
            </p>
          )}
        </div>
        <div>
          {parsed.steps && <FlowDiagram steps={steps} faults={new Set(faults.keys())} />}
          {faults.size > 0 && (
            <ul class="faults" aria-label="Errors by step">
              {[...faults].map(([id, messages]) => (
                <li key={id} class="error">
                  <strong>{id}</strong>: {messages.join('; ')}
                </li>
              ))}
            </ul>
          )}
        </div>
      </div>
      <button type="submit" disabled={!parsed.steps}>
        {flow ? 'Save a new version' : 'Create the flow'}
      </button>
      {saved && <p role="status">Saved.</p>}
      <ErrorBox error={error} />
    </form>
  );
}

export function FlowsPage() {
  const list = useAsync(() => ok(api.GET('/v1/flows', { params: { query: { limit: 100 } } })), []);
  const [creating, setCreating] = useState(false);
  return (
    <>
      <h1>Flows</h1>
      <button type="button" onClick={() => setCreating(!creating)} aria-expanded={creating}>
        New flow
      </button>
      {creating && <Editor onSaved={(id) => go('flows', id)} />}
      <Loading state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No flow yet: create one above.</Empty>
          ) : (
            <ul class="cards">
              {(page.data as Schemas['FlowSummaryDto'][]).map((f) => (
                <li key={f.id} class="card">
                  <a href={href('flows', f.id)}>{f.name}</a> <Status value={f.status} /> <span>v{f.latest_version}</span> <span class="hint">updated {time(f.updated_at)}</span>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
    </>
  );
}

export function FlowPage({ id }: { id: string }) {
  const flow = useAsync(() => ok(api.GET('/v1/flows/{id}', { params: { path: { id } } })), [id]);
  const [editing, setEditing] = useState(false);
  return (
    <>
      <p>
        <a href={href('flows')}>← Flows</a>
      </p>
      <Loading state={flow}>
        {(f) => (
          <>
            <h1>
              {f.name} <Status value={f.status} />
            </h1>
            <p>
              Version {f.version} of {f.latest_version}, {time(f.version_created_at)}
            </p>
            <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
              Edit
            </button>
            {editing ? (
              <Editor
                flow={f}
                onSaved={() => {
                  setEditing(false);
                  flow.reload();
                }}
              />
            ) : (
              <div class="split">
                <FlowDiagram steps={f.steps as unknown as Step[]} faults={new Set()} />
                <pre class="json" aria-label="Steps as JSON" tabIndex={0}>
                  {JSON.stringify(f.steps, null, 2)}
                </pre>
              </div>
            )}
          </>
        )}
      </Loading>
    </>
  );
}
