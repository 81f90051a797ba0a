/** What other modules may use from outbounds (the webhook processor, the conversation engine, inbounds). */
export { OutboundsModule } from './outbounds.module.js';
export { OutboundsService, type Invitation } from './outbounds.service.js';
export { ConsentsService } from './consents.service.js';
export { OutboundErrorCode } from './outbounds.errors.js';
