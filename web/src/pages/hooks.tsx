import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../api';
import { Empty, ErrorBox, Loading, Status, time, toApiError, useAsync } from '../ui';
import type { ApiError } from '../api';

function Deliveries({ hook }: { hook: Schemas['HookDto'] }) {
  const list = useAsync(() => ok(api.GET('/v1/hooks/{id}/deliveries', { params: { path: { id: hook.id }, query: { limit: 50 } } })), [hook.id]);
  const [error, setError] = useState<ApiError | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const redeliver = async (id: string) => {
    try {
      await ok(api.POST('/v1/hooks/deliveries/{id}/redeliver', { params: { path: { id } } }));
      setError(null);
      setDone(id);
      list.reload();
    } catch (e) {
      setError(toApiError(e));
    }
  };
  return (
    <Loading state={list}>
      {(page) =>
        page.data.length === 0 ? (
          <Empty>No delivery yet.</Empty>
        ) : (
          <>
            <ErrorBox error={error} />
            {done && <p role="status">Delivery {done} queued again.</p>}
            <ul class="deliveries" aria-label={`Deliveries to ${hook.url}`}>
              {(page.data as Schemas['DeliveryDto'][]).map((d) => (
                <li key={d.id} class="card" data-delivery={d.id}>
                  <p>
                    <strong>{d.event_type}</strong> <Status value={d.status} /> <span class="hint">{time(d.created_at)}</span>
                  </p>
                  <ol class="attempts" aria-label="Attempts">
                    {d.attempts.map((a, i) => (
                      <li key={i}>
                        {time(a.at)}: {a.http_status ?? 'no response'} {a.error && <span class="error">{a.error}</span>} ({a.latency_ms} ms)
                      </li>
                    ))}
                  </ol>
                  {(d.status === 'failed' || d.status === 'succeeded') && (
                    <button type="button" onClick={() => void redeliver(d.id)}>
                      Redeliver
                    </button>
                  )}
                </li>
              ))}
            </ul>
          </>
        )
      }
    </Loading>
  );
}

export function HooksPage() {
  const list = useAsync(() => ok(api.GET('/v1/hooks', { params: { query: { limit: 100 } } })), []);
  return (
    <>
      <h1>Hooks</h1>
      <Loading state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No hook subscription yet: create one with POST /v1/hooks.</Empty>
          ) : (
            (page.data as Schemas['HookDto'][]).map((h) => (
              <section key={h.id} class="card" aria-label={`Hook ${h.url}`}>
                <h2>{h.url}</h2>
                <p>
                  {h.active ? 'active' : `inactive${h.disabled_reason ? ` (${h.disabled_reason})` : ''}`} · events: {h.events.join(', ')}
                </p>
                <Deliveries hook={h} />
              </section>
            ))
          )
        }
      </Loading>
    </>
  );
}
