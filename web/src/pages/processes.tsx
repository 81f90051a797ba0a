import { useState } from 'preact/hooks';
import { api, exists, ok, type Schemas } from '../api';
import { href } from '../router';
import { Empty, ErrorBox, Loading, Status, time, toApiError, useAsync } from '../ui';
import type { ApiError } from '../api';
import { FileButton } from './files';

type Process = Schemas['ProcessDto'];
const STATUSES = ['pending', 'succeeded', 'failed', 'expired', 'cancelled'];

export function ProcessesPage() {
  const [status, setStatus] = useState('');
  const [phone, setPhone] = useState('');
  const [filter, setFilter] = useState({ status: '', phone: '' });
  const list = useAsync(
    () =>
      ok(
        api.GET('/v1/processes', {
          params: { query: { limit: 50, ...(filter.status ? { status: filter.status as Process['status'] } : {}), ...(filter.phone ? { phone: filter.phone } : {}) } },
        }),
      ),
    [filter.status, filter.phone],
  );
  return (
    <>
      <h1>Processes</h1>
      <form
        class="toolbar"
        onSubmit={(e) => {
          e.preventDefault();
          setFilter({ status, phone: phone.trim() });
        }}
      >
        <label>
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Phone <input value={phone} inputMode="tel" onInput={(e) => setPhone(e.currentTarget.value)} />
        </label>
        <button type="submit">Filter</button>
      </form>
      <Loading state={list}>
        {(page) =>
          page.data.length === 0 ? (
            <Empty>No process matches.</Empty>
          ) : (
            <div class="table-wrap" tabIndex={0} role="region" aria-label="Table">
              <table>
                <caption class="visually-hidden">Processes</caption>
                <thead>
                  <tr>
                    <th scope="col">Process</th>
                    <th scope="col">Status</th>
                    <th scope="col">Phone</th>
                    <th scope="col">Step</th>
                    <th scope="col">Started</th>
                  </tr>
                </thead>
                <tbody>
                  {(page.data as Process[]).map((p) => (
                    <tr key={p.process_id}>
                      <td>
                        <a href={href('processes', p.process_id)}>{p.process_id}</a>
                      </td>
                      <td>
                        <Status value={p.status} />
                      </td>
                      <td>{p.phone}</td>
                      <td>{p.current_step_id ?? '—'}</td>
                      <td>{time(p.started_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Loading>
    </>
  );
}

interface TimelineEntry {
  at: string;
  kind: string;
  text: string;
  status?: string | null;
  file?: { path: string; label: string };
}

function describe(m: Schemas['MessageDto']): string {
  const c = m.content as Record<string, any>;
  if (m.direction === 'inbound') return c.text ?? c.reply_title ?? c.reply_id ?? (c.media ? `[${m.type}${c.media.filename ? ` ${c.media.filename}` : ''}]` : `[${m.type}]`);
  return c.body ?? c.caption ?? c.rendered?.body ?? (c.kind === 'template' ? `template ${c.name}` : `[${c.kind ?? m.type}]`);
}

function Evidence({ id }: { id: string }) {
  const chain = useAsync(() => ok(api.GET('/v1/processes/{process_id}/evidence', { params: { path: { process_id: id } } })), [id]);
  const certificate = useAsync(() => exists(`/v1/processes/${encodeURIComponent(id)}/evidence/certificate.pdf`), [id]);
  const [verdict, setVerdict] = useState<Schemas['EvidenceVerificationDto'] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const verify = async () => {
    try {
      setVerdict(await ok(api.GET('/v1/processes/{process_id}/evidence/verify', { params: { path: { process_id: id } } })));
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    }
  };
  return (
    <section aria-labelledby="evidence">
      <h2 id="evidence">Evidence</h2>
      <Loading state={chain}>
        {(c) => (
          <>
            <p>
              Chain head <code class="hash">{c.head}</code> ({c.events.length} events)
            </p>
            <ol class="evidence">
              {c.events.map((e) => (
                <li key={e.seq}>
                  <span>#{e.seq}</span> <strong>{e.type}</strong> <time dateTime={e.occurred_at}>{time(e.occurred_at)}</time> <code class="hash">{e.hash.slice(0, 16)}…</code>
                </li>
              ))}
            </ol>
          </>
        )}
      </Loading>
      <button type="button" onClick={verify}>
        Verify the chain
      </button>
      {verdict && (
        <p role="status" class={verdict.valid ? 'ok' : 'error'}>
          {verdict.valid ? 'The chain verifies: every event is intact and in order.' : `The chain is broken at event #${verdict.broken_at}.`}
        </p>
      )}
      <ErrorBox error={error} />
      {certificate.data && <FileButton path={`/v1/processes/${encodeURIComponent(id)}/evidence/certificate.pdf`} label="Certificate (PDF)" />}
    </section>
  );
}

export function ProcessPage({ id }: { id: string }) {
  const state = useAsync(async () => {
    const process = await ok(api.GET('/v1/processes/{process_id}', { params: { path: { process_id: id } } }));
    const messages = await ok(api.GET('/v1/whatsapp/messages', { params: { query: { phone: process.phone, limit: 100 } } }));
    return { process, messages: messages.data as Schemas['MessageDto'][] };
  }, [id]);
  const [cancelError, setCancelError] = useState<ApiError | null>(null);
  return (
    <>
      <p>
        <a href={href('processes')}>← Processes</a>
      </p>
      <Loading state={state}>
        {({ process: p, messages }) => {
          const started = new Date(p.started_at).getTime();
          const entries: TimelineEntry[] = [];
          for (const m of messages) {
            if (m.line_id !== p.line_id || new Date(m.created_at).getTime() < started - 1000) continue;
            if (p.finished_at && new Date(m.created_at).getTime() > new Date(p.finished_at).getTime() + 60_000) continue;
            const media = (m.media ?? [])[0];
            entries.push({
              at: m.created_at,
              kind: m.direction === 'inbound' ? 'message in' : 'message out',
              text: describe(m),
              status: m.status,
              file: media?.content_url ? { path: media.content_url, label: media.filename ?? media.mime_type ?? 'file' } : undefined,
            });
          }
          for (const a of p.history ?? []) {
            const media = (a as Schemas['AnswerDto']).media;
            entries.push({
              at: a.answered_at,
              kind: 'answer',
              text: `${a.step_id}: ${a.value ?? '—'} ${a.valid ? '✓ valid' : `✗ ${a.error ?? 'invalid'}`}`,
              file: media?.content_url ? { path: media.content_url, label: media.mime_type ?? 'answer file' } : undefined,
            });
          }
          if (p.follow_up) entries.push({ at: p.follow_up.scheduled_at ?? p.started_at, kind: 'follow-up', text: `follow-up ${p.follow_up.status}` });
          entries.sort((a, b) => a.at.localeCompare(b.at));
          const signed = p.documents?.signed;
          return (
            <>
              <h1>
                Process <code>{p.process_id}</code>
              </h1>
              <dl class="facts">
                <dt>Status</dt>
                <dd>
                  <Status value={p.status} /> {p.failure_reason && <span>({p.failure_reason})</span>}
                </dd>
                <dt>Phone</dt>
                <dd>{p.phone}</dd>
                <dt>Flow</dt>
                <dd>
                  <a href={href('flows', p.flow_id)}>{p.flow_id}</a> v{p.flow_version}
                </dd>
                <dt>Started</dt>
                <dd>{time(p.started_at)}</dd>
                <dt>Finished</dt>
                <dd>{time(p.finished_at) || '—'}</dd>
              </dl>
              {p.status === 'pending' && (
                <button
                  type="button"
                  onClick={async () => {
                    try {
                      await ok(api.POST('/v1/processes/{process_id}/cancel', { params: { path: { process_id: id } } }));
                      state.reload();
                    } catch (e) {
                      setCancelError(toApiError(e));
                    }
                  }}
                >
                  Cancel the process
                </button>
              )}
              <ErrorBox error={cancelError} />
              {signed && <FileButton path={`/v1/processes/${encodeURIComponent(id)}/documents/signed.pdf`} label="Signed contract (PDF)" />}
              <section aria-labelledby="timeline">
                <h2 id="timeline">Timeline</h2>
                {entries.length === 0 ? (
                  <Empty>Nothing happened yet.</Empty>
                ) : (
                  <ol class="timeline">
                    {entries.map((e, i) => (
                      <li key={i} class={`entry entry-${e.kind.replace(/\W+/g, '-')}`}>
                        <time dateTime={e.at}>{time(e.at)}</time> <strong>{e.kind}</strong> <span>{e.text}</span> {e.status && <Status value={e.status} />}{' '}
                        {e.file && <FileButton path={e.file.path} label={e.file.label} />}
                      </li>
                    ))}
                  </ol>
                )}
              </section>
              <section aria-labelledby="answers">
                <h2 id="answers">Answers</h2>
                <pre class="json" tabIndex={0} aria-label="Answers as JSON">
                  {JSON.stringify(p.answers, null, 2)}
                </pre>
              </section>
              <Evidence id={id} />
            </>
          );
        }}
      </Loading>
    </>
  );
}
