/**
 * What a flow is made of: its steps and settings. Pure (no Nest, no database). Step types are not listed here: each
 * is registered by the module that owns it (see steps/step-type.ts), and the flow graph checks
 * (`flow-validation.ts`) work from their `exits`.
 */
import type { StepDefinition } from './steps/step-type.js';

export interface FlowSettings {
  expiration_minutes: number;
  language: string;
  enable_follow_up: boolean;
  follow_up_delay: number;
  follow_up_message: string;
  /** `HH:MM`, UTC. */
  start_business_hours: string;
  /** `HH:MM`, UTC. */
  end_business_hours: string;
}

/** One immutable version of a flow, as stored in `flow_versions.definition`. */
export interface FlowDefinition {
  name: string;
  steps: StepDefinition[];
  settings: FlowSettings;
}

export const DEFAULT_FLOW_SETTINGS: Readonly<FlowSettings> = {
  expiration_minutes: 1440,
  language: 'es',
  enable_follow_up: false,
  follow_up_delay: 120,
  follow_up_message: 'Tienes un proceso activo en curso',
  start_business_hours: '13:00',
  end_business_hours: '00:00',
};

/** Limits, most of them WhatsApp's (interactive messages: Cloud API reference). */
export const LIMITS = {
  steps: 100,
  stepId: 64,
  text: 4096,
  /** Body of interactive messages (buttons, lists) and media captions. */
  interactiveText: 1024,
  buttons: 3,
  buttonTitle: 20,
  listRows: 10,
  listRowTitle: 24,
  listButtonText: 20,
  optionId: 200,
  regexPattern: 500,
  maxAttempts: 10,
} as const;

export const DEFAULT_MAX_ATTEMPTS = 3;
export const STEP_ID = /^[A-Za-z0-9_-]+$/;
export const FAILURE_REASON = /^[a-z][a-z0-9_]{0,63}$/;
