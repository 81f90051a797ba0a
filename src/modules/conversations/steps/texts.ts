/** The few texts the engine writes itself, in the flow's language (es, en, pt; others fall back to es). */
const TEXTS = {
  es: {
    invalid: 'La respuesta no es válida. Inténtalo de nuevo.',
    choose: 'Elige una de las opciones.',
    media: 'Envía una imagen o un documento, por favor.',
    exit: 'Has salido del proceso.',
    accept: 'Acepto',
    decline: 'No acepto',
    options: 'Ver opciones',
  },
  en: {
    invalid: 'That answer is not valid. Please try again.',
    choose: 'Please choose one of the options.',
    media: 'Please send an image or a document.',
    exit: 'You left the process.',
    accept: 'I accept',
    decline: 'I decline',
    options: 'See options',
  },
  pt: {
    invalid: 'A resposta não é válida. Tente de novo.',
    choose: 'Escolha uma das opções.',
    media: 'Envie uma imagem ou um documento, por favor.',
    exit: 'Você saiu do processo.',
    accept: 'Aceito',
    decline: 'Não aceito',
    options: 'Ver opções',
  },
} as const;

export type TextKey = keyof (typeof TEXTS)['es'];

export function text(language: string, key: TextKey): string {
  const lang = language.slice(0, 2) as keyof typeof TEXTS;
  return (TEXTS[lang] ?? TEXTS.es)[key];
}
