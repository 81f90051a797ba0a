/**
 * What a flow's re-engagement settings mean, as pure functions: when the follow-up is due, its text and its buttons.
 * No Nest, no clock, no database.
 */
import { DEFAULT_FLOW_SETTINGS, type FlowSettings } from '../flows/flow-definition.js';
import type { OutgoingMessage } from '../../whatsapp/whatsapp.types.js';
import { nextSendTime, parseBusinessHour, type BusinessWindow } from './business-window.js';

export const FOLLOW_UP_YES = 'follow_up:yes';
export const FOLLOW_UP_NO = 'follow_up:no';

export const DEFAULT_FOLLOW_UP_DELAY_MINUTES = DEFAULT_FLOW_SETTINGS.follow_up_delay;
export const DEFAULT_FOLLOW_UP_MESSAGE = DEFAULT_FLOW_SETTINGS.follow_up_message;

const MINUTE_MS = 60_000;

/** The settings a follow-up reads; any of them may be missing (older flow versions, partial settings). */
export type FollowUpSettings = Partial<
  Pick<FlowSettings, 'enable_follow_up' | 'follow_up_delay' | 'follow_up_message' | 'start_business_hours' | 'end_business_hours' | 'language'>
>;

/** Only an explicit `true` enables follow-ups: unset means disabled. */
export function followUpsEnabled(settings: FollowUpSettings | null | undefined): boolean {
  return settings?.enable_follow_up === true;
}

export function followUpDelayMinutes(settings: FollowUpSettings): number {
  const delay = settings.follow_up_delay;
  return typeof delay === 'number' && Number.isFinite(delay) && delay > 0 ? delay : DEFAULT_FOLLOW_UP_DELAY_MINUTES;
}

export function followUpText(settings: FollowUpSettings): string {
  const text = settings.follow_up_message;
  return typeof text === 'string' && text.trim() !== '' ? text : DEFAULT_FOLLOW_UP_MESSAGE;
}

/** The flow's business window; each end that is unset (or unreadable) takes its default. */
export function businessWindowOf(settings: FollowUpSettings): BusinessWindow {
  return {
    start: parseBusinessHour(settings.start_business_hours) ?? DEFAULT_FLOW_SETTINGS.start_business_hours,
    end: parseBusinessHour(settings.end_business_hours) ?? DEFAULT_FLOW_SETTINGS.end_business_hours,
  };
}

/** asked_at + delay, moved to the next window start when it falls outside the business window. */
export function followUpDueAt(askedAt: Date, settings: FollowUpSettings): Date {
  return nextSendTime(new Date(askedAt.getTime() + followUpDelayMinutes(settings) * MINUTE_MS), businessWindowOf(settings));
}

/** Button titles in the flow's language (`es*`, `en*`, `pt*`); anything else gets Spanish, the product's default. */
export function followUpButtonTitles(language: string | null | undefined): { yes: string; no: string } {
  const lang = (language ?? '').toLowerCase();
  if (lang.startsWith('en')) return { yes: 'Yes', no: 'No' };
  if (lang.startsWith('pt')) return { yes: 'Sim', no: 'Não' };
  return { yes: 'Sí', no: 'No' };
}

export function followUpMessage(text: string, language: string): OutgoingMessage {
  const titles = followUpButtonTitles(language);
  return {
    kind: 'buttons',
    body: text,
    buttons: [
      { id: FOLLOW_UP_YES, title: titles.yes },
      { id: FOLLOW_UP_NO, title: titles.no },
    ],
  };
}

/** The yes/no a button reply id stands for, or null when it is not a follow-up button. */
export function followUpAnswerOf(replyId: string | null | undefined): 'yes' | 'no' | null {
  return replyId === FOLLOW_UP_YES ? 'yes' : replyId === FOLLOW_UP_NO ? 'no' : null;
}
