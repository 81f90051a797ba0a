/** What other modules may use from flows. */
export * from './flow-definition.js';
export { validateFlowSteps } from './flow-validation.js';
export { FlowErrorCode } from './flows.errors.js';
export { FlowsModule } from './flows.module.js';
export { FlowsService, type FlowVersionView } from './flows.service.js';
export * from './validators/index.js';
