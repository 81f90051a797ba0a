import { declareErrorCodes, type CodesOf } from '../../common/errors/app-error.js';

export const ConversationErrorCode = declareErrorCodes({
  /** The process already finished. */
  PROCESS_FINISHED: 'PROCESS_FINISHED',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof ConversationErrorCode> {}
}
