export * from './answer-validators.js';
export * from './match-option.js';
export * from './national-id.js';
