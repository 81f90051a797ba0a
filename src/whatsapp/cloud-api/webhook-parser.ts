import { rejectionReason } from './graph-payloads.js';
import type { InboundMessageEvent, WebhookEvent } from '../whatsapp.types.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const toDate = (ts: unknown) => new Date(Number(ts) * 1000 || 0);

/** WhatsApp's own limit for a text message: no inbound text, title or caption is kept longer. */
export const MAX_INBOUND_TEXT = 4096;
/** Ids (wamid, sender, reply ids) longer than this are not WhatsApp's: the message is ignored. */
const MAX_ID = 256;
const MEDIA_TYPES = ['image', 'document', 'video', 'audio'] as const;
const IGNORED_TYPES = ['sticker', 'reaction', 'contacts', 'order', 'system', 'unsupported', 'unknown', 'request_welcome'];

/**
 * Normalises a Cloud API webhook envelope (also what 360dialog-style BSPs forward). Never throws: anything it does
 * not act on becomes an `ignored` event with the reason, so it is recorded rather than lost.
 */
export function parseCloudWebhook(body: unknown): WebhookEvent[] {
  const events: WebhookEvent[] = [];
  const entries: Json[] = Array.isArray((body as Json)?.entry) ? (body as Json).entry : [];
  if (entries.length === 0) return [{ kind: 'ignored', phoneNumberId: null, reason: 'no entries' }];
  for (const entry of entries) {
    const changes: Json[] = Array.isArray(entry?.changes) ? entry.changes : [];
    for (const change of changes) {
      try {
        events.push(...parseChange(String(entry?.id ?? ''), change));
      } catch (err) {
        events.push({ kind: 'ignored', phoneNumberId: null, reason: `unparseable change: ${(err as Error).message}` });
      }
    }
  }
  return events;
}

function parseChange(entryId: string, change: Json): WebhookEvent[] {
  const value: Json = change?.value ?? {};
  const field = String(change?.field ?? '');
  const phoneNumberId: string | null = value.metadata?.phone_number_id ?? null;
  if (field === 'message_template_status_update') {
    return [
      {
        kind: 'template_status',
        wabaId: entryId,
        providerTemplateId: String(value.message_template_id ?? ''),
        name: String(value.message_template_name ?? ''),
        language: String(value.message_template_language ?? ''),
        status: String(value.event ?? ''),
        reason: rejectionReason(value.reason),
      },
    ];
  }
  if (field === 'user_preferences') {
    const prefs: Json[] = Array.isArray(value.user_preferences) ? value.user_preferences : [];
    return prefs.map((p) =>
      p.category === 'marketing_messages'
        ? {
            kind: p.value === 'stop' ? 'opt_out' : 'opt_in',
            phoneNumberId,
            from: String(p.wa_id ?? ''),
            timestamp: toDate(p.timestamp),
            detail: String(p.detail ?? p.value ?? ''),
          }
        : { kind: 'ignored', phoneNumberId, reason: `user preference ${p.category}` },
    );
  }
  if (field !== 'messages') return [{ kind: 'ignored', phoneNumberId, reason: `field ${field}` }];
  const out: WebhookEvent[] = [];
  const names = new Map<string, string>(((value.contacts as Json[]) ?? []).map((c) => [String(c.wa_id), String(c.profile?.name ?? '')]));
  for (const m of (value.messages as Json[]) ?? []) out.push(parseMessage(phoneNumberId, m, names));
  for (const s of (value.statuses as Json[]) ?? []) {
    if (!['sent', 'delivered', 'read', 'failed'].includes(s.status)) {
      out.push({ kind: 'ignored', phoneNumberId, reason: `status ${s.status}` });
      continue;
    }
    const e = (s.errors as Json[] | undefined)?.[0];
    out.push({
      kind: 'status',
      phoneNumberId,
      wamid: String(s.id),
      recipient: String(s.recipient_id ?? ''),
      status: s.status,
      timestamp: toDate(s.timestamp),
      ...(e ? { error: { code: String(e.code), title: String(e.title ?? e.message ?? ''), details: e.error_data?.details } } : {}),
    });
  }
  if (out.length === 0) out.push({ kind: 'ignored', phoneNumberId, reason: 'messages change without messages or statuses' });
  return out;
}

function parseMessage(phoneNumberId: string | null, m: Json, names: Map<string, string>): WebhookEvent {
  const event = parseMessageAsSent(phoneNumberId, m, names);
  return event.kind === 'message' ? capped(event) : event;
}

/**
 * The message with every text cut to MAX_INBOUND_TEXT characters (`truncated` says so), so that nothing downstream
 * (matching, validators, storage) ever sees more; ignored when its ids are not WhatsApp-sized.
 */
function capped(ev: InboundMessageEvent): WebhookEvent {
  if (ev.wamid.length > MAX_ID || ev.from.length > MAX_ID || (ev.replyId?.length ?? 0) > MAX_ID) {
    return { kind: 'ignored', phoneNumberId: ev.phoneNumberId, reason: 'message with an id longer than WhatsApp ids' };
  }
  let truncated = false;
  // Strings, whatever the provider sent (an object there would be kept whole).
  const cut = (value: unknown): string | undefined => {
    if (value === undefined || value === null) return undefined;
    const text = String(value);
    if (text.length <= MAX_INBOUND_TEXT) return text;
    truncated = true;
    return text.slice(0, MAX_INBOUND_TEXT);
  };
  const out: InboundMessageEvent = { ...ev, text: cut(ev.text), replyTitle: cut(ev.replyTitle), profileName: cut(ev.profileName), contextWamid: ev.contextWamid?.slice(0, MAX_ID) };
  if (ev.media)
    out.media = {
      ...ev.media,
      caption: cut(ev.media.caption),
      filename: cut(ev.media.filename),
      url: cut(ev.media.url),
      mimeType: cut(ev.media.mimeType),
      id: ev.media.id?.slice(0, MAX_ID),
      sha256: cut(ev.media.sha256),
    };
  if (ev.location) out.location = { ...ev.location, name: cut(ev.location.name), address: cut(ev.location.address) };
  if (ev.providerType) out.providerType = ev.providerType.slice(0, 64);
  if (truncated) out.truncated = true;
  return out;
}

function parseMessageAsSent(phoneNumberId: string | null, m: Json, names: Map<string, string>): WebhookEvent {
  const type = String(m.type ?? 'unknown');
  if (IGNORED_TYPES.includes(type) || m.errors) return { kind: 'ignored', phoneNumberId, reason: `message type ${type}` };
  const base: Omit<InboundMessageEvent, 'type'> = {
    kind: 'message',
    phoneNumberId,
    wamid: String(m.id),
    from: String(m.from ?? ''),
    profileName: names.get(String(m.from)) || undefined,
    timestamp: toDate(m.timestamp),
    contextWamid: m.context?.id,
  };
  if (!base.wamid || !base.from) return { kind: 'ignored', phoneNumberId, reason: 'message without id or sender' };
  switch (type) {
    case 'text':
      return { ...base, type: 'text', text: String(m.text?.body ?? '') };
    case 'button':
      return { ...base, type: 'button', text: m.button?.text, replyId: m.button?.payload ?? m.button?.text, replyTitle: m.button?.text };
    case 'interactive': {
      const reply = m.interactive?.button_reply ?? m.interactive?.list_reply;
      if (!reply) return { kind: 'ignored', phoneNumberId, reason: `interactive ${m.interactive?.type}` };
      return { ...base, type: 'interactive', replyId: String(reply.id), replyTitle: reply.title, text: reply.title };
    }
    case 'location':
      return {
        ...base,
        type: 'location',
        location: { latitude: Number(m.location?.latitude), longitude: Number(m.location?.longitude), name: m.location?.name, address: m.location?.address },
      };
    default:
      if ((MEDIA_TYPES as readonly string[]).includes(type)) {
        const media: Json = m[type] ?? {};
        return {
          ...base,
          type: type as InboundMessageEvent['type'],
          text: media.caption,
          media: { id: media.id, url: media.url, mimeType: media.mime_type, sha256: media.sha256, filename: media.filename, caption: media.caption },
        };
      }
      return { ...base, type: 'other', providerType: type };
  }
}

/** Changes a webhook call carries at most (Meta batches up to 1,000): ingress looks no further for routing keys. */
export const MAX_ROUTED_CHANGES = 1000;

export interface RoutingKeys {
  /** `metadata.phone_number_id` of the changes that have one. */
  phoneNumberIds: string[];
  /** `entry[].id` (the WABA) of every change: a WABA's lines can vouch for a number of it not registered here. */
  wabaIds: string[];
  /** Senders (`from`) of the messages. */
  senders: string[];
}

/**
 * The routing keys a body mentions, from its first MAX_ROUTED_CHANGES changes: the signature covers the whole body,
 * so they are enough to find the secret, and a call cannot make ingress look up more.
 */
export function routingKeys(body: unknown): RoutingKeys {
  const phoneNumberIds = new Set<string>();
  const wabaIds = new Set<string>();
  const senders = new Set<string>();
  const list = (v: unknown): Json[] => (Array.isArray(v) ? v : []);
  let changes = 0;
  for (const entry of list((body as Json)?.entry)) {
    for (const change of list(entry?.changes)) {
      if (++changes > MAX_ROUTED_CHANGES) break;
      const id = change?.value?.metadata?.phone_number_id;
      if (id) phoneNumberIds.add(String(id));
      if (entry?.id) wabaIds.add(String(entry.id));
      for (const m of list(change?.value?.messages)) senders.add(String(m?.from));
    }
    if (changes > MAX_ROUTED_CHANGES) break;
  }
  return { phoneNumberIds: [...phoneNumberIds], wabaIds: [...wabaIds], senders: [...senders] };
}
