import fc from 'fast-check';
import { isSupportedDateFormat, parseDate, parseNumber, validateAnswer, validateDate, validateEmail, validateNumber, validateRegex, validateText } from './answer-validators.js';
import { matchOption, normalizeForMatch } from './match-option.js';
import { curpCheckDigit, dniLetter, validateCoCedula, validateEsDniNie, validateMxCurp, validateNationalId } from './national-id.js';
import { compilePattern, MATCH_BUDGET, nestedRepetition } from './tenant-regex.js';
import { WORST_CASES } from '../../../../test/support/worst-cases.js';

describe('text', () => {
  it('trims and checks length in characters (not UTF-16 units)', () => {
    expect(validateText('  hola  ', { min_length: 4 })).toEqual({ valid: true, normalized: 'hola' });
    expect(validateText('abc', { min_length: 4 })).toEqual({ valid: false, error: 'too_short' });
    expect(validateText('abcdef', { max_length: 5 })).toEqual({ valid: false, error: 'too_long' });
    expect(validateText('😀😀', { max_length: 2 }).valid).toBe(true);
    expect(validateText('   ').error).toBe('empty');
  });
});

describe('email', () => {
  it.each([['ana@example.com'], ['  Ana.Perez+kyc@Banco.CO  ']])('accepts %s', (e) => {
    expect(validateEmail(e).valid).toBe(true);
  });
  it('lower-cases only the domain', () => {
    expect(validateEmail(' Ana.Perez@Banco.CO ').normalized).toBe('Ana.Perez@banco.co');
  });
  it.each([['ana'], ['ana@'], ['@example.com'], ['ana@example'], ['ana @example.com'], ['ana@@example.com']])('rejects %s', (e) => {
    expect(validateEmail(e)).toEqual({ valid: false, error: 'not_an_email' });
  });
});

describe('number', () => {
  it.each([
    ['42', 42],
    [' -3 ', -3],
    ['+7', 7],
    ['2.5', 2.5],
    ['2,5', 2.5],
    ['1.500.000', 1500000],
    ['1,500,000', 1500000],
    ['1,500,000.75', 1500000.75],
    ['1.500.000,75', 1500000.75],
    ['1 500 000', 1500000],
  ])('parses %s as %d', (input, n) => {
    expect(parseNumber(input)).toBe(n);
  });
  it.each([['abc'], ['1.2.3,4,5'], ['12.'], ['1,23,456'], [''], ['1e5'], ['Infinity'], ['0x10'], ['--1']])('rejects %s', (input) => {
    expect(parseNumber(input)).toBeNull();
  });
  it('checks min and max inclusively', () => {
    expect(validateNumber('18', { min: 18, max: 99 })).toEqual({ valid: true, normalized: '18' });
    expect(validateNumber('17,9', { min: 18 })).toEqual({ valid: false, error: 'below_min' });
    expect(validateNumber('100', { max: 99 })).toEqual({ valid: false, error: 'above_max' });
  });
  it('round-trips any finite integer', () => {
    fc.assert(fc.property(fc.integer(), (n) => expect(validateNumber(String(n)).normalized).toBe(String(n))));
  });
});

describe('date', () => {
  it('parses ISO by default and other formats on request, normalizing to ISO', () => {
    expect(validateDate('1990-07-15')).toEqual({ valid: true, normalized: '1990-07-15' });
    expect(validateDate('15/07/1990', { format: 'DD/MM/YYYY' })).toEqual({ valid: true, normalized: '1990-07-15' });
    expect(validateDate('5-7-1990', { format: 'DD/MM/YYYY' }).normalized).toBe('1990-07-05');
    expect(validateDate('07/15/1990', { format: 'MM/DD/YYYY' }).normalized).toBe('1990-07-15');
    expect(validateDate('19900715', { format: 'YYYYMMDD' }).normalized).toBe('1990-07-15');
  });
  it('rejects impossible dates and wrong formats', () => {
    expect(validateDate('2023-02-29').error).toBe('not_a_date');
    expect(validateDate('2024-02-29').valid).toBe(true);
    expect(validateDate('31/04/2020', { format: 'DD/MM/YYYY' }).error).toBe('not_a_date');
    expect(validateDate('15/07/1990').error).toBe('not_a_date');
    expect(validateDate('ayer').error).toBe('not_a_date');
  });
  it('checks ISO min and max inclusively, whatever the answer format', () => {
    const v = { format: 'DD/MM/YYYY', min: '1900-01-01', max: '2006-12-31' };
    expect(validateDate('31/12/2006', v).valid).toBe(true);
    expect(validateDate('01/01/2007', v).error).toBe('after_max');
    expect(validateDate('31/12/1899', v).error).toBe('before_min');
  });
  it('knows which formats it supports', () => {
    for (const f of ['YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY', 'DD.MM.YYYY', 'YYYYMMDD']) expect(isSupportedDateFormat(f)).toBe(true);
    for (const f of ['DD/MM/YY', 'YYYY-MM', 'DD/DD/YYYY', 'D/M/YYYY', 'YYYY_MM_DD', 'DD/MM/YYYY hh:mm']) expect(isSupportedDateFormat(f)).toBe(false);
    expect(parseDate('2020-01-01', 'nonsense')).toBeNull();
  });
});

describe('regex', () => {
  it('matches the whole trimmed answer', () => {
    expect(validateRegex(' AB-123 ', { pattern: '[A-Z]{2}-\\d{3}' })).toEqual({ valid: true, normalized: 'AB-123' });
    expect(validateRegex('xAB-123', { pattern: '[A-Z]{2}-\\d{3}' }).error).toBe('no_match');
    expect(validateRegex('ab-123', { pattern: '[A-Z]{2}-\\d{3}', flags: 'i' }).valid).toBe(true);
    expect(validateRegex('a', { pattern: 'a|b' }).valid).toBe(true);
    expect(validateRegex('ab', { pattern: 'a|b' }).valid).toBe(false);
  });

  it('supports the flags i, m, s and u with RE2 semantics', () => {
    expect(validateRegex('ÑANDÚ', { pattern: 'ñandú', flags: 'i' }).valid).toBe(true);
    expect(validateRegex('ÑANDÚ', { pattern: 'ñandú' }).valid).toBe(false);
    expect(validateRegex('a\nb', { pattern: 'a.b', flags: 's' }).valid).toBe(true);
    expect(validateRegex('a\nb', { pattern: 'a.b' }).valid).toBe(false);
    // m lets ^ and $ match at line ends inside the answer; the whole answer must still match.
    expect(validateRegex('ab\ncd', { pattern: 'ab$\n^cd', flags: 'm' }).valid).toBe(true);
    expect(validateRegex('ab\ncd', { pattern: 'ab$\n^cd' }).valid).toBe(false);
    expect(validateRegex('😀', { pattern: '.', flags: 'u' }).valid).toBe(true);
    expect(validateRegex('Łódź', { pattern: '\\p{L}+' }).valid).toBe(true);
  });

  it('runs in linear time: (a+)+b on 4,096 letters answers at once', () => {
    expect(validateRegex('a'.repeat(4096), { pattern: '(a+)+b' }).error).toBe('no_match');
  });

  it('fails closed on a pattern RE2 cannot run (stored before patterns were checked)', () => {
    expect(validateRegex('aa', { pattern: '(a)\\1' }).error).toBe('unsupported_pattern');
    expect(validateRegex('ab', { pattern: 'a(?=b)b' }).error).toBe('unsupported_pattern');
  });

  it("caps a large pattern's answers so that program size × length stays within the budget", () => {
    const pattern = '[ab]*a[ab]{995}[ab]{995}';
    const compiled = compilePattern(pattern);
    if (!compiled.ok) throw new Error(compiled.reason);
    expect(compiled.re.programSize()).toBeGreaterThan(1900);
    expect(compiled.maxInput).toBe(Math.floor(MATCH_BUDGET / compiled.re.programSize()));
    expect(validateRegex('a'.repeat(compiled.maxInput + 1), { pattern }).error).toBe('too_long');
    expect(validateRegex('a'.repeat(compiled.maxInput), { pattern }).error).toBe('no_match');
  });
});

describe('nestedRepetition', () => {
  it.each(['(a+)+b', '(a*)*', '(\\w+\\s?)*', '(x+x+)+y', '((a+))+', '(?:a|b+){2,}', '(?P<n>a+){2}', '(?i:a+)+', '(a+)+?', '([a-z]+,)*'])('finds %s', (p) => {
    expect(nestedRepetition(p)).toMatch(/^nested repetition/);
  });
  it.each(['a+', '(ab)+', '(a+)?', '(a+)b+', '(?:\\d{3}-)+\\d', '[(a+)]+', '\\(a+\\)+', '\\Q(a+)+\\E', '(?i)a+', '(a{2,3})+', '(a+){1}', '([a-z]{1,50},)*', '\\p{L}+(\\s\\p{L})*'])(
    'accepts %s',
    (p) => {
      expect(nestedRepetition(p)).toBeNull();
    },
  );
});

describe('compilePattern', () => {
  it.each([
    ['a backreference', '(a)\\1', 'invalid escape sequence'],
    ['a lookahead', 'a(?=b)', 'unsupported Perl syntax'],
    ['a lookbehind', '(?<=a)b', 'invalid named capture'],
    ['too large a program', '[a-z]{1,1000}[a-z]{1,1000}', 'too large'],
    ['a repeat over 1000', 'a{1001}', 'invalid repeat count'],
  ])('refuses %s with the reason', (_, pattern, reason) => {
    const compiled = compilePattern(pattern);
    expect(compiled.ok).toBe(false);
    expect(!compiled.ok && compiled.reason).toContain(reason);
  });

  it('refuses flags RE2 cannot honour', () => {
    expect(compilePattern('a', 'g')).toEqual({ ok: false, reason: 'flag g is not supported (use i, m, s, u)' });
  });
});

describe('national ids', () => {
  it('CO cédula: 6 to 10 digits, dots and spaces allowed, no check digit', () => {
    expect(validateCoCedula('1.020.304.050')).toEqual({ valid: true, normalized: '1020304050' });
    expect(validateCoCedula('79 123 456').normalized).toBe('79123456');
    expect(validateCoCedula('12345').error).toBe('bad_length');
    expect(validateCoCedula('12345678901').error).toBe('bad_length');
    expect(validateCoCedula('12A45678').error).toBe('not_digits');
    expect(validateCoCedula('01234567').error).toBe('leading_zero');
  });

  it('MX CURP: format, birth date and check digit', () => {
    // Published examples with correct check digits.
    expect(validateMxCurp('BOXW310820HNERXN09')).toEqual({ valid: true, normalized: 'BOXW310820HNERXN09' });
    expect(validateMxCurp(' hegg560427mvzrrl04 ').normalized).toBe('HEGG560427MVZRRL04');
    expect(validateMxCurp('BOXW310820HNERXN08').error).toBe('bad_check_digit');
    expect(validateMxCurp('BOXW310820HNERXN0').error).toBe('bad_format');
    expect(validateMxCurp('BOXW310820HXXRXN09').error).toBe('bad_format'); // unknown state
    expect(validateMxCurp('BOXW311320HNERXN09').error).toBe('bad_birth_date'); // month 13
    expect(validateMxCurp('BOXW310231HNERXN09').error).toBe('bad_birth_date'); // 31 February
    // Born in 2000 or later: position 17 is a letter; 2000-02-29 exists, 1900-02-29 did not.
    const born2000 = 'GOCA000229HDFRRNA';
    expect(validateMxCurp(born2000 + curpCheckDigit(born2000)).valid).toBe(true);
    const born1900 = 'GOCA000229HDFRRN0';
    expect(validateMxCurp(born1900 + curpCheckDigit(born1900)).error).toBe('bad_birth_date');
  });

  it('MX CURP: any single-character change of the check digit is caught', () => {
    for (let d = 0; d <= 9; d++) {
      if (d === 9) continue;
      expect(validateMxCurp(`BOXW310820HNERXN0${d}`).valid).toBe(false);
    }
  });

  it('ES DNI and NIE: mod-23 control letter', () => {
    expect(validateEsDniNie('54362315-K')).toEqual({ valid: true, normalized: '54362315K' });
    expect(validateEsDniNie('12345678z').normalized).toBe('12345678Z');
    expect(validateEsDniNie('54362315Z').error).toBe('bad_check_letter');
    expect(validateEsDniNie('x-2482300w')).toEqual({ valid: true, normalized: 'X2482300W' });
    expect(validateEsDniNie('X2482300A').error).toBe('bad_check_letter');
    expect(validateEsDniNie('Y2482300W').error).toBe('bad_check_letter'); // Y reads as 1, not 0
    expect(validateEsDniNie('A2482300W').error).toBe('bad_format');
    expect(validateEsDniNie('1234567Z').error).toBe('bad_format');
  });

  it('ES: every 8-digit number has exactly one valid letter', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99_999_999 }), fc.constantFrom(...'TRWAGMYFPDXBNJZSQVHLCKE'), (n, letter) => {
        const digits = String(n).padStart(8, '0');
        expect(validateEsDniNie(digits + letter).valid).toBe(letter === dniLetter(digits));
      }),
    );
  });

  it('dispatches by country', () => {
    expect(validateNationalId('54362315K', 'ES').valid).toBe(true);
    expect(validateNationalId('54362315K', 'CO').valid).toBe(false);
    expect(validateNationalId('BOXW310820HNERXN09', 'MX').valid).toBe(true);
  });
});

describe('validateAnswer', () => {
  it('dispatches on the validator type and refuses empty or huge answers', () => {
    expect(validateAnswer('ana@example.com', { type: 'email' }).valid).toBe(true);
    expect(validateAnswer('x', { type: 'email' }).valid).toBe(false);
    expect(validateAnswer('  ', { type: 'text' }).error).toBe('empty');
    expect(validateAnswer('a'.repeat(5000), { type: 'text' }).error).toBe('too_long');
    expect(validateAnswer('15/07/1990', { type: 'date', format: 'DD/MM/YYYY' }).normalized).toBe('1990-07-15');
    expect(validateAnswer('1.020.304', { type: 'national_id', country: 'CO' }).normalized).toBe('1020304');
    expect(validateAnswer('12', { type: 'number', min: 1, max: 10 }).error).toBe('above_max');
    expect(validateAnswer('ok', { type: 'regex', pattern: 'ok|no' }).valid).toBe(true);
  });
});

describe('matchOption', () => {
  const options = [
    { id: 'yes', title: 'Sí, acepto' },
    { id: 'no', title: 'No' },
    { id: 'later', title: 'Más   tarde' },
  ];
  it.each([
    ['yes', 'yes'],
    ['Sí, acepto', 'yes'],
    ['si, ACEPTO', 'yes'],
    ['  sí,   acepto!  ', 'yes'],
    ['NO', 'no'],
    ['mas tarde', 'later'],
    ['LATER', 'later'],
    ['¿Más tarde?', 'later'],
  ])('%s → %s', (text, id) => {
    expect(matchOption(text, options)?.id).toBe(id);
  });
  it.each([['sí'], ['nop'], [''], ['   '], ['!!']])('%s matches nothing', (text) => {
    expect(matchOption(text, options)).toBeNull();
  });
  it('normalizes composed and decomposed accents alike', () => {
    expect(normalizeForMatch('Ma\u0301s')).toBe(normalizeForMatch('Más'));
    expect(normalizeForMatch('ÑANDÚ')).toBe('nandu');
  });
  it('a title always matches itself whatever the case and spacing', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }).filter((s) => normalizeForMatch(s) !== ''),
        (title) => {
          const opts = [{ id: 'x', title }];
          expect(matchOption(`  ${title.toUpperCase()}  `, opts)?.id ?? matchOption(title, opts)?.id).toBe('x');
        },
      ),
    );
  });
});

describe('worst cases', () => {
  // `npm run bench -- validators` measures each below 10 ms here (the figures are in docs/architecture.md); 250 ms would
  // mean a regression to super-linear time (the backtracking `(a+)+b` took over 30 s), not a slow machine.
  it.each(WORST_CASES.map((c) => [c.name, c] as const))('%s answers far below a blocking time', (_, c) => {
    const call = c.prepare();
    call(); // warm-up: compiling a pattern is cached
    const started = performance.now();
    call();
    expect(performance.now() - started).toBeLessThan(250);
  });
});
