/** Events a hook can subscribe to. `ping` is sent only by `POST /v1/hooks/{id}/test`. */
export const HOOK_EVENTS = [
  'process.started',
  'process.succeeded',
  'process.failed',
  'message.status',
  'outbound.status',
  'signature.completed',
  'evidence.certificate_ready',
  'evidence.checkpoint',
] as const;
export const PING_EVENT = 'ping';

export const DELIVERY_STATUSES = ['pending', 'sending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
