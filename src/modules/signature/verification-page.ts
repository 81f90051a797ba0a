import type { UploadVerification } from './verification.service.js';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A whole page, no script and no inline style: it works under the strictest Content-Security-Policy. */
function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escape(title)} — Testigo</title></head>
<body>
<main>
<h1>${escape(title)}</h1>
${body}
</main>
</body>
</html>
`;
}

/** The verification form: a person drops a signed contract or a certificate of evidence, the browser posts it. */
export function verificationPage(): string {
  return page(
    'Verify a document',
    `<p>Check a signed contract or a certificate of evidence issued by Testigo: whether it was issued here and whether it is intact.
The file is checked and not kept.</p>
<form method="post" action="/v1/verify" enctype="multipart/form-data">
<p><label for="file">PDF file</label><br><input id="file" name="file" type="file" accept="application/pdf,.pdf" required></p>
<p><button type="submit">Verify</button></p>
</form>`,
  );
}

/** The answer to a form post, for a person. */
export function verificationResultPage(r: UploadVerification): string {
  const verdict = r.intact
    ? 'Intact: this is the very file issued here, and its seal is valid.'
    : r.issued_here
      ? 'Altered: this file was issued here, but it was changed since.'
      : r.signature
        ? 'Not issued here: its signature is not ours.'
        : 'Not issued here: the file carries no signature.';
  const rows: Array<[string, string]> = [
    ['Issued here', r.issued_here ? 'yes' : 'no'],
    ['Kind', r.kind === 'certificate' ? 'certificate of evidence' : r.kind === 'signed_document' ? 'signed document' : '—'],
    ['Process', r.process_id ?? '—'],
    ['Signature', r.signature ? `${r.signature.valid ? 'valid' : 'not valid'}, PAdES ${r.signature.level}` : 'none'],
    ['Signed at', r.signature?.signed_at ?? '—'],
  ];
  return page(
    'Verification result',
    `<p><strong>${escape(verdict)}</strong></p>
<dl>
${rows.map(([k, v]) => `<dt>${escape(k)}</dt><dd>${escape(v)}</dd>`).join('\n')}
</dl>
<p><a href="/verify">Verify another file</a></p>`,
  );
}
