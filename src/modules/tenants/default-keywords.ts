/** What applies while a tenant has not set its own keywords. */
export const DEFAULT_KEYWORDS = {
  exit: ['salir', 'exit'],
  stop: ['STOP', 'BAJA', 'PARAR', 'CANCELAR SUSCRIPCION'],
  start: ['START', 'ALTA'],
} as const;
