import { useState } from 'preact/hooks';
import { api, ok, type Schemas } from '../api';
import { Empty, ErrorBox, Loading, Status, time, toApiError, useAsync } from '../ui';
import type { ApiError } from '../api';

function SendForm({ outbounds }: { outbounds: Schemas['OutboundDto'][] }) {
  const approved = outbounds.filter((o) => o.status === 'APPROVED');
  const [outbound, setOutbound] = useState('');
  const [phone, setPhone] = useState('');
  const [country, setCountry] = useState('CO');
  const [params, setParams] = useState('');
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  if (approved.length === 0) return <Empty>No approved template to send yet.</Empty>;
  const send = async (e: Event) => {
    e.preventDefault();
    try {
      const r = await ok(
        api.POST('/v1/whatsapp/outbounds/send', {
          params: { header: { 'idempotency-key': crypto.randomUUID() } },
          body: {
            outbound_id: outbound || approved[0]!.outbound_id,
            phone_number: phone,
            country_code: country,
            ...(params.trim() ? { outbound_params: params.trim() } : {}),
          },
        }),
      );
      setResult(JSON.stringify(r));
      setError(null);
    } catch (err) {
      setError(toApiError(err));
      setResult(null);
    }
  };
  return (
    <form class="card" onSubmit={send} aria-label="Send a template">
      <h2>Send</h2>
      <label>
        Template{' '}
        <select value={outbound} onChange={(e) => setOutbound(e.currentTarget.value)}>
          {approved.map((o) => (
            <option key={o.outbound_id} value={o.outbound_id}>
              {o.template_name ?? o.outbound_id}
            </option>
          ))}
        </select>
      </label>
      <label>
        Phone number <input required value={phone} inputMode="tel" onInput={(e) => setPhone(e.currentTarget.value)} />
      </label>
      <label>
        Country code <input required value={country} maxLength={2} onInput={(e) => setCountry(e.currentTarget.value)} />
      </label>
      <label>
        Parameters <input value={params} onInput={(e) => setParams(e.currentTarget.value)} />
      </label>
      <button type="submit">Send</button>
      {result && <p role="status">Sent: {result}</p>}
      <ErrorBox error={error} />
    </form>
  );
}

export function OutboundsPage() {
  const list = useAsync(() => ok(api.GET('/v1/whatsapp/outbounds', { params: { query: { limit: 100 } } })), []);
  return (
    <>
      <h1>Outbounds</h1>
      <Loading state={list}>
        {(page) => {
          const outbounds = page.data as Schemas['OutboundDto'][];
          return (
            <>
              {outbounds.length === 0 ? (
                <Empty>No template yet: create one with POST /v1/whatsapp/outbounds.</Empty>
              ) : (
                <div class="table-wrap" tabIndex={0} role="region" aria-label="Table">
                  <table>
                    <caption class="visually-hidden">Templates</caption>
                    <thead>
                      <tr>
                        <th scope="col">Template</th>
                        <th scope="col">Status</th>
                        <th scope="col">Content</th>
                        <th scope="col">Created</th>
                      </tr>
                    </thead>
                    <tbody>
                      {outbounds.map((o) => (
                        <tr key={o.outbound_id}>
                          <td>{o.template_name ?? o.outbound_id}</td>
                          <td>
                            <Status value={o.status} />
                            {o.rejection_reason && <p class="error">Rejected: {o.rejection_reason}</p>}
                            {o.submission_error && <p class="error">{o.submission_error}</p>}
                          </td>
                          <td>{o.content}</td>
                          <td>{time(o.created_at)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </div>
              )}
              <SendForm outbounds={outbounds} />
            </>
          );
        }}
      </Loading>
    </>
  );
}
