import { useEffect, useRef, useState } from 'preact/hooks';
import { api, blobUrl, eventStream, ok, type Schemas } from '../api';
import { clock, Empty, ErrorBox, Loading, time, toApiError, useAsync } from '../ui';
import type { ApiError } from '../api';

type Message = Schemas['MessageDto'];
type Content = Record<string, any>;
type Say = { text: string } | { reply_id: string; reply_title?: string } | { media_type: 'image' | 'document'; filename?: string };

const DEFAULT_USER = '+573001234567';

/** Delivery ticks as WhatsApp draws them. */
function Ticks({ m }: { m: Message }) {
  if (m.direction !== 'outbound') return null;
  const [mark, label] =
    m.status === 'failed'
      ? ['!', 'failed']
      : m.status === 'read'
        ? ['✓✓', 'read']
        : m.status === 'delivered'
          ? ['✓✓', 'delivered']
          : m.status === 'sent'
            ? ['✓', 'sent']
            : ['🕓', m.status];
  return (
    <span class={`ticks ticks-${m.status}`} aria-label={label} title={label}>
      {mark}
    </span>
  );
}

function FileLink({ path, label, image }: { path: string; label: string; image?: boolean }) {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    if (!image) return;
    let live = true;
    blobUrl(path).then(
      (u) => live && setUrl(u),
      (e: unknown) => live && setError(toApiError(e)),
    );
    return () => {
      live = false;
    };
  }, [path, image]);
  const open = async () => {
    try {
      window.open(url ?? (await blobUrl(path)), '_blank', 'noopener');
    } catch (e) {
      setError(toApiError(e));
    }
  };
  return (
    <span class="file">
      {image && url && <img src={url} alt={label} />}
      <button type="button" class="link" onClick={open}>
        {label}
      </button>
      <ErrorBox error={error} />
    </span>
  );
}

/** What one message shows: text, media, and the buttons or list rows that can be tapped (on the last prompt only). */
function Bubble({ m, tappable, say }: { m: Message; tappable: boolean; say(s: Say): void }) {
  const c = m.content as Content;
  const media = (m.media ?? []) as Schemas['MediaFileDto'][];
  let body: preact.ComponentChildren = null;
  let options: Array<{ id: string; title: string; description?: string }> = [];
  let listButton: string | null = null;
  if (m.direction === 'inbound') {
    const text = c.text ?? c.reply_title ?? c.reply_id ?? c.media?.caption;
    body = text ?? (m.type === 'image' ? '📷 Photo' : m.type === 'document' ? `📄 ${c.media?.filename ?? 'Document'}` : `[${m.type}]`);
  } else if (c.rendered) {
    body = [c.rendered.header, c.rendered.body, c.rendered.footer].filter(Boolean).join('\n');
    options = (c.rendered.buttons ?? []).filter((b: { id?: string }) => b.id);
  } else if (c.kind === 'text') body = c.body;
  else if (c.kind === 'buttons') {
    body = [c.header, c.body, c.footer].filter(Boolean).join('\n');
    options = c.buttons ?? [];
  } else if (c.kind === 'list') {
    body = [c.header, c.body, c.footer].filter(Boolean).join('\n');
    options = c.rows ?? [];
    listButton = c.buttonText ?? 'Options';
  } else if (c.kind === 'media' || c.kind === 'file') {
    body = c.caption ?? null;
  } else body = `[${c.kind ?? m.type}]`;
  const [listOpen, setListOpen] = useState(false);
  const files: Array<{ path: string; label: string; image: boolean }> = media
    .filter((f) => f.content_url)
    .map((f) => ({ path: f.content_url!, label: f.filename ?? (f.mime_type?.startsWith('image/') ? 'Open image' : 'Open document'), image: !!f.mime_type?.startsWith('image/') }));
  if (c.kind === 'file' && c.fileId && files.length === 0)
    files.push({ path: `/v1/files/${c.fileId}/content`, label: c.filename ?? (c.mediaType === 'image' ? 'Open image' : 'Open PDF'), image: c.mediaType === 'image' });
  if (c.kind === 'media' && c.link) body = [body, c.link].filter(Boolean).join('\n');
  return (
    <li class={`bubble ${m.direction === 'inbound' ? 'mine' : 'theirs'}`} data-message-id={m.id}>
      {body !== null && <p class="text">{body}</p>}
      {files.map((f) => (
        <FileLink key={f.path} {...f} />
      ))}
      {listButton ? (
        <>
          <button type="button" class="option" disabled={!tappable} aria-expanded={listOpen} onClick={() => setListOpen(!listOpen)}>
            ☰ {listButton}
          </button>
          {listOpen && (
            <ul class="rows" aria-label={listButton}>
              {options.map((o) => (
                <li key={o.id}>
                  <button type="button" class="option" disabled={!tappable} onClick={() => say({ reply_id: o.id, reply_title: o.title })}>
                    {o.title}
                    {o.description && <small>{o.description}</small>}
                  </button>
                </li>
              ))}
            </ul>
          )}
        </>
      ) : (
        options.length > 0 && (
          <div class="options">
            {options.map((o) => (
              <button key={o.id} type="button" class="option" disabled={!tappable} onClick={() => say({ reply_id: o.id, reply_title: o.title })}>
                {o.title}
              </button>
            ))}
          </div>
        )
      )}
      <span class="meta">
        <time dateTime={m.created_at}>{clock(m.created_at)}</time> <Ticks m={m} />
      </span>
    </li>
  );
}

function Chat({ line, phone }: { line: string; phone: string }) {
  const [messages, setMessages] = useState<Message[] | null>(null);
  const [sms, setSms] = useState<Schemas['SandboxSmsDto'][]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const [live, setLive] = useState(false);
  const [text, setText] = useState('');
  const fileInput = useRef<HTMLInputElement>(null);
  const end = useRef<HTMLDivElement>(null);

  const loadMessages = async () => {
    try {
      const page = await ok(api.GET('/v1/sandbox/messages', { params: { query: { waba_phone_number: line, phone, limit: 100 } } }));
      setMessages([...(page.data as Message[])].reverse());
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    }
  };
  const loadSms = async () => {
    try {
      const page = await ok(api.GET('/v1/sandbox/sms', { params: { query: { phone, limit: 20 } } }));
      setSms(page.data as Schemas['SandboxSmsDto'][]);
    } catch (e) {
      setError(toApiError(e));
    }
  };

  useEffect(() => {
    setMessages(null);
    setSms([]);
    void loadMessages();
    void loadSms();
    const query = new URLSearchParams({ waba_phone_number: line, phone });
    return eventStream(
      `/v1/sandbox/events?${query}`,
      (e) => {
        if (e.type === 'message' || e.type === 'resync') void loadMessages();
        if (e.type === 'sms' || e.type === 'resync') void loadSms();
      },
      setLive,
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [line, phone]);

  useEffect(() => end.current?.scrollIntoView?.({ block: 'end' }), [messages?.length]);

  const say = async (what: Say) => {
    try {
      await ok(api.POST('/v1/sandbox/messages', { body: { waba_phone_number: line, from: phone, ...what } }));
      setError(null);
    } catch (e) {
      setError(toApiError(e));
    }
  };
  const send = (e: Event) => {
    e.preventDefault();
    if (!text.trim()) return;
    void say({ text: text.trim() });
    setText('');
  };
  const pick = () => {
    const file = fileInput.current?.files?.[0];
    if (!file) return;
    void say({ media_type: file.type.startsWith('image/') ? 'image' : 'document', filename: file.name });
    fileInput.current!.value = '';
  };
  const lastPrompt = messages
    ? [...messages].reverse().find((m) => m.direction === 'outbound' && ['buttons', 'list', 'template'].includes((m.content as Content).kind))?.id
    : undefined;
  const lastInbound = messages ? [...messages].reverse().find((m) => m.direction === 'inbound')?.id : undefined;
  const promptIsOpen = !!lastPrompt && (!lastInbound || lastInbound < lastPrompt);

  return (
    <div class="simulator">
      <section class="phone" aria-label={`Chat with ${line}`}>
        <div class="phone-head">
          <span>{line}</span>
          <span class={live ? 'live on' : 'live'} role="status">
            {live ? 'live' : 'connecting…'}
          </span>
        </div>
        <ErrorBox error={error} />
        {messages === null ? (
          <p aria-busy="true">Loading…</p>
        ) : messages.length === 0 ? (
          <Empty>No messages yet: write the inbound message of one of your inbounds to start a flow.</Empty>
        ) : (
          <ol class="chat" aria-label="Messages" aria-live="polite" tabIndex={0}>
            {messages.map((m) => (
              <Bubble key={m.id} m={m} tappable={promptIsOpen && m.id === lastPrompt} say={(s) => void say(s)} />
            ))}
          </ol>
        )}
        <div ref={end} />
        <form class="composer" onSubmit={send}>
          <label class="visually-hidden" for="say">
            Message
          </label>
          <input id="say" type="text" placeholder="Message" autocomplete="off" value={text} onInput={(e) => setText(e.currentTarget.value)} />
          <label class="file-pick">
            <span class="visually-hidden">Attach an image or a document</span>
            <span aria-hidden="true">Attach</span>
            <input ref={fileInput} type="file" accept="image/*,application/pdf" onChange={pick} />
          </label>
          <button type="submit">Send</button>
        </form>
      </section>
      <aside class="sms" aria-label="Sandbox SMS inbox">
        <h2>SMS inbox</h2>
        {sms.length === 0 ? (
          <Empty>No SMS sent to {phone}.</Empty>
        ) : (
          <ul>
            {sms.map((s) => (
              <li key={s.created_at + s.body}>
                <p>{s.body}</p>
                <time dateTime={s.created_at}>{time(s.created_at)}</time>
              </li>
            ))}
          </ul>
        )}
      </aside>
    </div>
  );
}

/** "Move the clock": only where the service runs with SANDBOX_CLOCK=true; elsewhere a note says why there is none. */
function ClockControl() {
  const clockState = useAsync(() => ok(api.GET('/v1/sandbox/clock')), []);
  const [minutes, setMinutes] = useState('120');
  const [error, setError] = useState<ApiError | null>(null);
  if (!clockState.data) return <ErrorBox error={clockState.error} />;
  if (!clockState.data.movable)
    return <p class="hint">The follow-up of an unanswered question arrives when its time comes; this service runs on the real clock, so the console cannot move it.</p>;
  const move = async (e: Event) => {
    e.preventDefault();
    try {
      await ok(api.POST('/v1/sandbox/clock', { body: { minutes: Number(minutes) } }));
      setError(null);
      clockState.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  };
  return (
    <form class="toolbar" onSubmit={move} aria-label="Sandbox clock">
      <span>
        Service time: <time dateTime={clockState.data.now}>{time(clockState.data.now)}</time>
      </span>
      <label>
        Minutes <input type="number" min={1} max={10080} required value={minutes} onInput={(e) => setMinutes(e.currentTarget.value)} />
      </label>
      <button type="submit">Move the clock</button>
      <ErrorBox error={error} />
    </form>
  );
}

export function SimulatorPage() {
  const lines = useAsync(() => ok(api.GET('/v1/whatsapp/numbers', { params: { query: { limit: 100 } } })), []);
  const [line, setLine] = useState<string>('');
  const [phone, setPhone] = useState(DEFAULT_USER);
  const [user, setUser] = useState(DEFAULT_USER);
  const [newLine, setNewLine] = useState('+14155550100');
  const [error, setError] = useState<ApiError | null>(null);
  const addLine = async (e: Event) => {
    e.preventDefault();
    try {
      await ok(api.POST('/v1/whatsapp/numbers', { body: { phone_number: newLine, provider: 'sandbox', throughput_mps: 80 } }));
      setError(null);
      lines.reload();
    } catch (err) {
      setError(toApiError(err));
    }
  };
  return (
    <>
      <h1>Chat simulator</h1>
      <Loading state={lines}>
        {(page) => {
          const sandbox = (page.data as Schemas['NumberDto'][]).filter((l) => l.provider === 'sandbox');
          const current = line || sandbox[0]?.phone_number || '';
          if (sandbox.length === 0)
            return (
              <form class="card" onSubmit={addLine}>
                <Empty>No sandbox line yet. A sandbox line talks to this simulator instead of WhatsApp.</Empty>
                <label for="new-line">Sandbox line number</label>
                <input id="new-line" value={newLine} onInput={(e) => setNewLine(e.currentTarget.value)} />
                <button type="submit">Add a sandbox line</button>
                <ErrorBox error={error} />
              </form>
            );
          return (
            <>
              <form
                class="toolbar"
                onSubmit={(e) => {
                  e.preventDefault();
                  setUser(phone.trim());
                }}
              >
                <label>
                  Line{' '}
                  <select value={current} onChange={(e) => setLine(e.currentTarget.value)}>
                    {sandbox.map((l) => (
                      <option key={l.id} value={l.phone_number}>
                        {l.phone_number}
                      </option>
                    ))}
                  </select>
                </label>
                <label>
                  User number <input value={phone} inputMode="tel" onInput={(e) => setPhone(e.currentTarget.value)} />
                </label>
                <button type="submit">Open chat</button>
              </form>
              <ClockControl />
              <Chat key={current + user} line={current} phone={user} />
            </>
          );
        }}
      </Loading>
    </>
  );
}
