/** The texts the contracting steps write themselves, in the flow's language (es, en, pt; others fall back to es). */
const TEXTS = {
  es: {
    reviewed: '¿Recibiste el documento y lo revisaste?',
    reviewedYes: 'Sí, lo revisé',
    reviewedNo: 'No',
    otpAsk: 'Te enviamos un código de 6 dígitos {channel}. Escríbelo aquí. Si no te llega, escribe «reenviar».',
    otpWrong: 'El código no es correcto. Te quedan {left} intentos.',
    otpExpired: 'El código caducó. Escribe «reenviar» para recibir uno nuevo.',
    otpResent: 'Te enviamos un código nuevo.',
    otpNoResends: 'Ya no quedan reenvíos. Escribe el último código que recibiste.',
    otpUndeliverable: 'No pudimos enviarte el código. Inténtalo más tarde.',
    otpSms: 'Tu código de verificación es {code}. Caduca en {minutes} minutos. No lo compartas con nadie.',
    bySms: 'por SMS al {phone}',
    byWhatsapp: 'por WhatsApp',
    signing: 'Estamos preparando tu documento firmado; te llegará en un momento.',
    signed: 'Este es tu documento firmado electrónicamente.',
    signatureFailed: 'No pudimos firmar tu documento. Te contactaremos.',
  },
  en: {
    reviewed: 'Did you receive the document and review it?',
    reviewedYes: 'Yes, I reviewed it',
    reviewedNo: 'No',
    otpAsk: 'We sent you a 6-digit code {channel}. Type it here. If it does not arrive, type "resend".',
    otpWrong: 'That code is not correct. {left} attempts left.',
    otpExpired: 'The code expired. Type "resend" to get a new one.',
    otpResent: 'We sent you a new code.',
    otpNoResends: 'No resends left. Type the last code you received.',
    otpUndeliverable: 'We could not send you the code. Please try again later.',
    otpSms: 'Your verification code is {code}. It expires in {minutes} minutes. Do not share it with anyone.',
    bySms: 'by SMS to {phone}',
    byWhatsapp: 'on WhatsApp',
    signing: 'We are preparing your signed document; it will arrive in a moment.',
    signed: 'Here is your electronically signed document.',
    signatureFailed: 'We could not sign your document. We will contact you.',
  },
  pt: {
    reviewed: 'Você recebeu o documento e o revisou?',
    reviewedYes: 'Sim, revisei',
    reviewedNo: 'Não',
    otpAsk: 'Enviamos um código de 6 dígitos {channel}. Digite-o aqui. Se não chegar, digite «reenviar».',
    otpWrong: 'O código não está correto. Restam {left} tentativas.',
    otpExpired: 'O código expirou. Digite «reenviar» para receber um novo.',
    otpResent: 'Enviamos um novo código.',
    otpNoResends: 'Não restam reenvios. Digite o último código que você recebeu.',
    otpUndeliverable: 'Não conseguimos enviar o código. Tente mais tarde.',
    otpSms: 'Seu código de verificação é {code}. Expira em {minutes} minutos. Não o compartilhe com ninguém.',
    bySms: 'por SMS para {phone}',
    byWhatsapp: 'pelo WhatsApp',
    signing: 'Estamos preparando seu documento assinado; ele chegará em instantes.',
    signed: 'Aqui está o seu documento assinado eletronicamente.',
    signatureFailed: 'Não conseguimos assinar seu documento. Entraremos em contato.',
  },
} as const;

export type ContractTextKey = keyof (typeof TEXTS)['es'];
export type ContractLanguage = keyof typeof TEXTS;

export function contractLanguage(language: string): ContractLanguage {
  const lang = language.slice(0, 2);
  return lang === 'en' || lang === 'pt' ? lang : 'es';
}

/** The text in the language, with `{name}` placeholders filled. */
export function contractText(language: string, key: ContractTextKey, values: Record<string, string | number> = {}): string {
  return TEXTS[contractLanguage(language)][key].replace(/\{(\w+)\}/g, (all, name: string) => (name in values ? String(values[name]) : all));
}

/** `+57 300 ••• 4567`: enough for the person to recognise their number, not enough to read it off a page. */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  return `+${digits.slice(0, digits.length > 10 ? digits.length - 10 : 0)} ${digits.slice(-10, -7)} ••• ${digits.slice(-4)}`.replace('+ ', '+');
}
