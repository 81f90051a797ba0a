import { useEffect, useState } from 'preact/hooks';
import { api, blobUrl, ok, type Schemas } from '../api';
import { href } from '../router';
import { Empty, ErrorBox, Loading, time, toApiError, useAsync } from '../ui';
import type { ApiError } from '../api';

function Qr({ id }: { id: string }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let live = true;
    blobUrl(`/v1/whatsapp/inbounds/${encodeURIComponent(id)}/qr.png`).then(
      (u) => live && setUrl(u),
      (e: unknown) => live && setError(toApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [id]);
  return error ? <ErrorBox error={error} /> : url ? <img class="qr" src={url} alt="QR code of the wa.me link" width={160} height={160} /> : <span aria-busy="true">…</span>;
}

export function InboundsPage() {
  const list = useAsync(() => ok(api.GET('/v1/whatsapp/inbounds', { params: { query: { limit: 100 } } })), []);
  const flows = useAsync(() => ok(api.GET('/v1/flows', { params: { query: { limit: 100 } } })), []);
  const lines = useAsync(() => ok(api.GET('/v1/whatsapp/numbers', { params: { query: { limit: 100 } } })), []);
  const [form, setForm] = useState({ line: '', flow: '', message: '' });
  const [error, setError] = useState<ApiError | null>(null);
  const create = async (e: Event) => {
    e.preventDefault();
    try {
      await ok(
        api.POST('/v1/whatsapp/inbounds', {
          body: { waba_phone_number: form.line || lines.data!.data[0]!.phone_number, flow_id: form.flow || flows.data!.data[0]!.id, inbound_message: form.message },
        }),
      );
      setError(null);
      setForm({ ...form, message: '' });
      list.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  };
  return (
    <>
      <h1>Inbounds</h1>
      {lines.data && flows.data && lines.data.data.length > 0 && flows.data.data.length > 0 && (
        <form class="card" onSubmit={create} aria-label="New inbound">
          <label>
            Line{' '}
            <select value={form.line} onChange={(e) => setForm({ ...form, line: e.currentTarget.value })}>
              {(lines.data.data as Schemas['NumberDto'][]).map((l) => (
                <option key={l.id} value={l.phone_number}>
                  {l.phone_number} ({l.provider})
                </option>
              ))}
            </select>
          </label>
          <label>
            Flow{' '}
            <select value={form.flow} onChange={(e) => setForm({ ...form, flow: e.currentTarget.value })}>
              {(flows.data.data as Schemas['FlowSummaryDto'][]).map((f) => (
                <option key={f.id} value={f.id}>
                  {f.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Inbound message <input required value={form.message} onInput={(e) => setForm({ ...form, message: e.currentTarget.value })} />
          </label>
          <button type="submit">Create the inbound</button>
          <ErrorBox error={error} />
        </form>
      )}
      <Loading state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No inbound yet: an inbound starts a flow when a user writes its message to a line.</Empty>
          ) : (
            <ul class="cards">
              {(page.data as Schemas['InboundDto'][]).map((i) => (
                <li key={i.inbound_id} class="card inbound">
                  <Qr id={i.inbound_id} />
                  <div>
                    <p>
                      <strong>“{i.inbound_message}”</strong> to {i.waba_phone_number}
                    </p>
                    <p>
                      Flow <a href={href('flows', i.flow_id)}>{i.flow_id}</a>
                    </p>
                    <p>
                      <a href={i.link} rel="noopener noreferrer" target="_blank">
                        {i.link}
                      </a>
                    </p>
                    <p class="hint">{time(i.created_at)}</p>
                  </div>
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
    </>
  );
}
