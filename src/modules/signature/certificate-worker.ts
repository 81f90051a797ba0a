import { renderCertificate, type CertificateModel } from './certificate-pdf.js';

/** CertificateRenderer's worker thread: renders one certificate of evidence. */
export default function render(model: CertificateModel): Promise<Buffer> {
  return renderCertificate(model);
}
