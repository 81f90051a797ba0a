import { declareErrorCodes, type CodesOf } from '../../common/errors/app-error.js';

export const ContractErrorCode = declareErrorCodes({
  /** The process has no signed document (yet): see its `documents.signing` state. */
  DOCUMENT_NOT_SIGNED: 'DOCUMENT_NOT_SIGNED',
});

export const CertificateErrorCode = declareErrorCodes({
  /** The process is still running: its certificate of evidence is made when it ends. */
  PROCESS_NOT_FINISHED: 'PROCESS_NOT_FINISHED',
  /** Making the certificate failed after every retry (see `details.error`). */
  CERTIFICATE_FAILED: 'CERTIFICATE_FAILED',
  /** The process's evidence was purged after its retention (a tombstone keeps its chain head). */
  EVIDENCE_PURGED: 'EVIDENCE_PURGED',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof ContractErrorCode>, CodesOf<typeof CertificateErrorCode> {}
}
