import type { Signer } from '@libpdf/core';

/** The signing certificate chain as served and embedded: DER, signing certificate first, root last; and as PEM. */
export interface SigningChain {
  pem: string;
  certificates: Uint8Array[];
}

/**
 * The key that signs (contracts now; certificates of evidence and checkpoints later) and its certificate chain. The
 * file adapter holds the key in this process; a KMS/HSM adapter returns a Signer whose `sign` calls out instead.
 */
export abstract class SigningKey {
  abstract signer(): Promise<Signer>;
  abstract chain(): Promise<SigningChain>;
  /** Signing under a generated trial CA: valid only for whoever trusts that CA. */
  abstract readonly trial: boolean;
}
