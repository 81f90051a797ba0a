export { DocumentsModule } from './documents.module.js';
export { DocumentsService, type DocumentInfo, type StoreOptions } from './documents.service.js';
export { DocumentErrorCode } from './documents.errors.js';
