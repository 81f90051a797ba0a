import { declareErrorCodes, type CodesOf } from '../../common/errors/app-error.js';

export const ContractErrorCode = declareErrorCodes({
  /** The process has no signed document (yet): see its `documents.signing` state. */
  DOCUMENT_NOT_SIGNED: 'DOCUMENT_NOT_SIGNED',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof ContractErrorCode> {}
}
