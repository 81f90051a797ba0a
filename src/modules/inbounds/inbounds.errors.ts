import { declareErrorCodes, type CodesOf } from '../../common/errors/app-error.js';

export const InboundErrorCode = declareErrorCodes({
  /** Another inbound of the line already starts with this message. */
  INBOUND_MESSAGE_TAKEN: 'INBOUND_MESSAGE_TAKEN',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof InboundErrorCode> {}
}
