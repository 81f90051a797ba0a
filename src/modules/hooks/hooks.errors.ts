import { declareErrorCodes, type CodesOf } from '../../common/errors/app-error.js';

export const HookErrorCode = declareErrorCodes({
  /** A delivery being sent cannot be retried now. */
  DELIVERY_IN_PROGRESS: 'DELIVERY_IN_PROGRESS',
  /** The hook is inactive: set active=true first. */
  HOOK_INACTIVE: 'HOOK_INACTIVE',
});

declare module '../../common/errors/app-error.js' {
  interface DeclaredErrorCodes extends CodesOf<typeof HookErrorCode> {}
}
