import { stepTypesByName } from '../../../test/support/step-types.js';
import { validateFlowSteps as validateWith } from './flow-validation.js';

const TYPES = stepTypesByName();
const validateFlowSteps = (steps: unknown) => validateWith(steps, TYPES);

const end = (id = 'done', extra: Record<string, unknown> = {}) => ({ id, type: 'end', outcome: 'succeeded', text: 'Listo', ...extra });
const q = (id: string, extra: Record<string, unknown> = {}) => ({ id, type: 'question', text: '¿Tu correo?', validator: { type: 'email' }, ...extra });
const fields = (steps: unknown) => validateFlowSteps(steps).map((e) => e.field);
const messages = (steps: unknown) =>
  validateFlowSteps(steps)
    .flatMap((e) => e.messages)
    .join('\n');

const fullFlow = [
  { id: 'welcome', type: 'message', text: 'Hola', media_url: 'https://cdn.example.com/logo.png', media_type: 'image' },
  { id: 'terms', type: 'consent', text: '¿Aceptas?', accept_title: 'Acepto', decline_title: 'No acepto' },
  {
    id: 'doc_type',
    type: 'choice',
    text: 'Documento',
    style: 'buttons',
    options: [
      { id: 'cc', title: 'Cédula' },
      { id: 'ce', title: 'Extranjería', next: 'email' },
    ],
  },
  { id: 'cedula', type: 'question', text: 'Número', validator: { type: 'national_id', country: 'CO' }, error_text: 'No es válido', max_attempts: 5 },
  q('email'),
  { id: 'birth', type: 'question', text: 'Fecha', validator: { type: 'date', format: 'DD/MM/YYYY', min: '1900-01-01', max: '2010-12-31' } },
  { id: 'amount', type: 'question', text: 'Monto', validator: { type: 'number', min: 0, max: 1e9 } },
  { id: 'code', type: 'question', text: 'Código', validator: { type: 'regex', pattern: '[A-Z]{3}\\d{3}', flags: 'i' } },
  { id: 'name', type: 'question', text: 'Nombre', validator: { type: 'text', min_length: 2, max_length: 80 } },
  { id: 'id_photo', type: 'media', text: 'Foto de tu documento', accept: ['image', 'document'] },
  {
    id: 'city',
    type: 'choice',
    text: 'Ciudad',
    style: 'list',
    button_text: 'Ver ciudades',
    options: Array.from({ length: 10 }, (_, k) => ({ id: `c${k}`, title: `Ciudad número ${k}` })),
  },
  end('done'),
];

describe('validateFlowSteps', () => {
  it('accepts a flow using every step type and validator', () => {
    expect(validateFlowSteps(fullFlow)).toEqual([]);
  });

  it('accepts branches that rejoin and a loop that has a way out', () => {
    const steps = [
      {
        id: 'menu',
        type: 'choice',
        text: '¿Qué quieres?',
        style: 'buttons',
        options: [
          { id: 'again', title: 'Otra vez', next: 'info' },
          { id: 'stop', title: 'Salir', next: 'bye' },
        ],
      },
      { id: 'info', type: 'message', text: 'Info', next: 'menu' },
      end('bye'),
    ];
    expect(validateFlowSteps(steps)).toEqual([]);
  });

  it('requires a non-empty array of at most 100 steps', () => {
    expect(fields([])).toEqual(['steps']);
    expect(fields('nope')).toEqual(['steps']);
    const many = [...Array.from({ length: 100 }, (_, k) => ({ id: `m${k}`, type: 'message', text: 'x' })), end()];
    expect(messages(many)).toContain('at most 100 steps');
    expect(validateFlowSteps(many.slice(1))).toEqual([]);
  });

  it('rejects duplicate step ids naming both steps', () => {
    expect(validateFlowSteps([q('a'), q('a'), end()])).toEqual([{ field: 'steps[1].id', messages: ["steps[1] (id 'a'): id 'a' is already used by steps[0]"] }]);
  });

  it('rejects bad ids, unknown types and unknown fields', () => {
    expect(fields([{ id: 'has space', type: 'message', text: 'x' }, end()])).toEqual(['steps[0].id']);
    expect(messages([{ id: 'x', type: 'dance', text: 'x' }, end()])).toContain("steps[0] (id 'x'): type must be one of: message, question, choice, media, consent, end");
    expect(fields([{ ...q('a'), colour: 'red' }, end()])).toEqual(['steps[0].colour']);
    expect(fields([end('e', { next: 'e' })])).toEqual(['steps[0].next']);
    expect(fields(['text', end()])).toEqual(['steps[0]']);
  });

  it('rejects unknown ids in next and in option next, naming the step', () => {
    expect(validateFlowSteps([q('a', { next: 'nowhere' }), end()])).toEqual([{ field: 'steps[0].next', messages: ["steps[0] (id 'a'): next 'nowhere' is not the id of a step"] }]);
    const choice = {
      id: 'pick',
      type: 'choice',
      text: 'x',
      style: 'buttons',
      options: [
        { id: 'a', title: 'A' },
        { id: 'b', title: 'B', next: 'ghost' },
      ],
    };
    expect(validateFlowSteps([choice, end()])).toEqual([
      { field: 'steps[0].options[1].next', messages: ["steps[0] (id 'pick'): options[1].next 'ghost' is not the id of a step"] },
    ]);
  });

  it('rejects a flow that runs off its end', () => {
    expect(validateFlowSteps([q('a'), q('b')])).toEqual([{ field: 'steps[1]', messages: [expect.stringContaining("steps[1] (id 'b'): the flow runs off its end")] }]);
    // A branch that falls through the last step also runs off, even though another branch ends properly.
    const steps = [
      end('ok'),
      {
        id: 'pick',
        type: 'choice',
        text: 'x',
        style: 'buttons',
        options: [
          { id: 'a', title: 'A', next: 'ok' },
          { id: 'b', title: 'B' },
        ],
      },
    ];
    expect(fields(steps)).toContain('steps[1]');
  });

  it('rejects loops without exit, showing the loop', () => {
    const steps = [q('a'), q('b', { next: 'a' }), end()];
    const errors = validateFlowSteps(steps);
    expect(errors.map((e) => e.field)).toEqual(['steps[0]', 'steps[1]', 'steps[2]']);
    expect(errors[0].messages[0]).toBe("steps[0] (id 'a'): can never reach an end step, it loops without exit (a → b → a)");
    expect(errors[2].messages[0]).toContain("steps[2] (id 'done'): is never reached from the first step");
    expect(messages([{ id: 'spin', type: 'message', text: 'x', next: 'spin' }, end()])).toContain('(spin → spin)');
  });

  it('a consent decline is not a way out of a loop', () => {
    const steps = [{ id: 'c', type: 'consent', text: 'ok?', next: 'm' }, { id: 'm', type: 'message', text: 'x', next: 'c' }, end()];
    expect(fields(steps)).toEqual(['steps[0]', 'steps[1]', 'steps[2]']);
  });

  it('a choice with only looping options is rejected, with one exit option it is fine', () => {
    const loop = (next: string) => [
      {
        id: 'menu',
        type: 'choice',
        text: 'x',
        style: 'list',
        options: [
          { id: 'a', title: 'A', next: 'menu' },
          { id: 'b', title: 'B', next },
        ],
      },
      end(),
    ];
    expect(fields(loop('menu'))).toContain('steps[0]');
    expect(validateFlowSteps(loop('done'))).toEqual([]);
  });

  it('enforces WhatsApp button and list limits', () => {
    const opts = (n: number, title = (k: number) => `Opción ${k}`) => Array.from({ length: n }, (_, k) => ({ id: `o${k}`, title: title(k) }));
    const choice = (style: string, options: unknown[], extra = {}) => [{ id: 'pick', type: 'choice', text: 'Elige', style, options, ...extra }, end()];
    expect(validateFlowSteps(choice('buttons', opts(4)))).toEqual([
      { field: 'steps[0].options', messages: ["steps[0] (id 'pick'): options: WhatsApp allows at most 3 buttons, got 4"] },
    ]);
    expect(validateFlowSteps(choice('list', opts(4)))).toEqual([]);
    expect(fields(choice('list', opts(11)))).toEqual(['steps[0].options']);
    expect(
      validateFlowSteps(
        choice(
          'buttons',
          opts(2, () => 'x'.repeat(20)).map((o, k) => ({ ...o, title: o.title.slice(k) })),
        ),
      ),
    ).toEqual([]);
    expect(validateFlowSteps(choice('buttons', [{ id: 'a', title: 'x'.repeat(21) }]))).toEqual([
      { field: 'steps[0].options[0].title', messages: ["steps[0] (id 'pick'): options[0].title must be at most 20 characters, got 21"] },
    ]);
    expect(validateFlowSteps(choice('list', [{ id: 'a', title: 'x'.repeat(24) }]))).toEqual([]);
    expect(fields(choice('list', [{ id: 'a', title: 'x'.repeat(25) }]))).toEqual(['steps[0].options[0].title']);
    expect(fields(choice('buttons', []))).toEqual(['steps[0].options']);
    expect(
      fields(
        choice('buttons', [
          { id: 'a', title: 'Sí' },
          { id: 'b', title: 'si' },
        ]),
      ),
    ).toEqual(['steps[0].options[1].title']);
    expect(
      fields(
        choice('buttons', [
          { id: 'a', title: 'A' },
          { id: 'a', title: 'B' },
        ]),
      ),
    ).toEqual(['steps[0].options[1].id']);
    expect(fields(choice('buttons', [{ id: ' a', title: 'A' }]))).toEqual(['steps[0].options[0].id']);
    expect(fields(choice('buttons', [{ id: 'a', title: 'A' }], { button_text: 'Ver' }))).toEqual(['steps[0].button_text']);
    expect(fields(choice('list', [{ id: 'a', title: 'A' }], { button_text: 'x'.repeat(21) }))).toEqual(['steps[0].button_text']);
    expect(fields(choice('carousel', [{ id: 'a', title: 'A' }]))).toEqual(['steps[0].style']);
  });

  it('rejects empty texts', () => {
    expect(fields([{ id: 'm', type: 'message', text: '   ' }, end()])).toEqual(['steps[0].text']);
    expect(fields([q('a', { text: '' }), end('e', { text: undefined })])).toEqual(['steps[0].text', 'steps[1].text']);
  });

  it('checks question validators', () => {
    const withValidator = (validator: unknown) => fields([q('a', { validator }), end()]);
    expect(withValidator({ type: 'regex', pattern: '([a-z' })).toEqual(['steps[0].validator.pattern']);
    expect(messages([q('a', { validator: { type: 'regex', pattern: '(' } }), end()])).toContain('not a valid regular expression');
    expect(withValidator({ type: 'regex', pattern: 'a', flags: 'g' })).toEqual(['steps[0].validator.flags']);
    expect(withValidator({ type: 'regex', pattern: 'a', flags: 'ii' })).toEqual(['steps[0].validator.flags']);
    expect(withValidator({ type: 'regex', pattern: 'a', flags: 'i'.repeat(100_000) })).toEqual(['steps[0].validator.flags']);
    // What RE2 cannot run, and nested repetition, are refused with the reason.
    expect(withValidator({ type: 'regex', pattern: '(a+)+b' })).toEqual(['steps[0].validator.pattern']);
    expect(messages([q('a', { validator: { type: 'regex', pattern: '(a+)+b' } }), end()])).toContain('nested repetition');
    expect(withValidator({ type: 'regex', pattern: '(?:[A-Z]{2}\\d+-)+\\d' })).toEqual(['steps[0].validator.pattern']);
    expect(withValidator({ type: 'regex', pattern: '(?:[A-Z]{2}\\d{3}-)+\\d' })).toEqual([]);
    expect(withValidator({ type: 'regex', pattern: '(a)\\1' })).toEqual(['steps[0].validator.pattern']);
    expect(messages([q('a', { validator: { type: 'regex', pattern: '(?=x)y' } }), end()])).toContain('unsupported Perl syntax');
    expect(withValidator({ type: 'telepathy' })).toEqual(['steps[0].validator.type']);
    expect(withValidator(undefined)).toEqual(['steps[0].validator']);
    expect(withValidator({ type: 'email', strict: true })).toEqual(['steps[0].validator.strict']);
    expect(withValidator({ type: 'national_id', country: 'AR' })).toEqual(['steps[0].validator.country']);
    expect(withValidator({ type: 'date', format: 'DD/MM/YY' })).toEqual(['steps[0].validator.format']);
    expect(withValidator({ type: 'date', min: '2020-02-30' })).toEqual(['steps[0].validator.min']);
    expect(withValidator({ type: 'date', min: '2021-01-01', max: '2020-01-01' })).toEqual(['steps[0].validator.min']);
    expect(withValidator({ type: 'number', min: 5, max: 1 })).toEqual(['steps[0].validator.min']);
    expect(withValidator({ type: 'number', min: '5' })).toEqual(['steps[0].validator.min']);
    expect(withValidator({ type: 'text', min_length: 10, max_length: 2 })).toEqual(['steps[0].validator.min_length']);
    expect(fields([q('a', { max_attempts: 0 }), end()])).toEqual(['steps[0].max_attempts']);
  });

  it('checks message media, media accept, consent titles and end outcomes', () => {
    expect(fields([{ id: 'm', type: 'message', text: 'x', media_url: 'http://insecure.example.com/a.png', media_type: 'image' }, end()])).toEqual(['steps[0].media_url']);
    expect(fields([{ id: 'm', type: 'message', text: 'x', media_url: 'https://e.com/a.pdf' }, end()])).toEqual(['steps[0].media_type']);
    expect(fields([{ id: 'm', type: 'message', text: 'x', media_url: 'https://e.com/a.png', media_type: 'image', filename: 'a.png' }, end()])).toEqual(['steps[0].filename']);
    expect(fields([{ id: 'f', type: 'media', text: 'x', accept: ['video'] }, end()])).toEqual(['steps[0].accept']);
    expect(fields([{ id: 'c', type: 'consent', text: 'x', accept_title: 'Sí', decline_title: 'sí' }, end()])).toEqual(['steps[0].decline_title']);
    expect(fields([end('e', { outcome: 'maybe' })])).toEqual(['steps[0].outcome']);
    expect(fields([end('e', { failure_reason: 'nope' })])).toEqual(['steps[0].failure_reason']);
    expect(validateFlowSteps([end('e', { outcome: 'failed', failure_reason: 'not_eligible' })])).toEqual([]);
    expect(fields([end('e', { outcome: 'failed', failure_reason: 'Not Eligible' })])).toEqual(['steps[0].failure_reason']);
  });
});
