/**
 * The module boundaries of DESIGN.md, checked in CI (`npm run lint`): no cycles, and dependencies point one way, from
 * the lowest layer (common, config, database, storage) up to the ingress and console. A module uses another's
 * exported services, never its files below them by the back door; specs and tests are free.
 */
const LAYERS = [
  ['common', 'config', 'database', 'storage'],
  ['whatsapp', 'sms', 'signing', 'modules/audit', 'modules/tenants', 'modules/evidence', 'modules/health'],
  ['modules/messages', 'modules/hooks'],
  ['modules/flows', 'modules/templates', 'modules/reengagement', 'modules/inbounds', 'modules/documents'],
  ['modules/conversations'],
  ['modules/outbounds', 'modules/signature'],
  ['modules/webhooks', 'modules/console'],
];

const path = (dir) => `^src/${dir}/`;
const above = (level) => LAYERS.slice(level + 1).flat();

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes the import order matter and hides a layer violation.',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { circular: true, viaOnly: { pathNot: '\\.spec\\.ts$' }, dependencyTypesNot: ['type-only'] },
    },
    ...LAYERS.slice(0, -1).flatMap((dirs, level) =>
      dirs.map((dir) => ({
        name: `layer-${dir.replace('/', '-')}`,
        severity: 'error',
        comment: `${dir} must not depend on a higher layer (${above(level).join(', ')}): register into it from above instead`,
        from: { path: path(dir), pathNot: '\\.spec\\.ts$' },
        to: { path: above(level).map(path) },
      })),
    ),
    {
      name: 'flows-not-to-reengagement',
      severity: 'error',
      comment: 'Re-engagement reads flow settings; flows must not need re-engagement (the layer is shared, the direction is not).',
      from: { path: '^src/modules/flows/' },
      to: { path: '^src/modules/reengagement/' },
    },
    {
      name: 'database-not-to-common',
      severity: 'error',
      comment: 'common builds on database (the job runner writes through write-behind), never the other way round.',
      from: { path: '^src/database/' },
      to: { path: '^src/common/' },
    },
    {
      name: 'own-tables-only',
      severity: 'error',
      comment: "A module reads and writes only its own tables: another module's entity is for its types, never its rows (ask its service).",
      from: { path: '^src/modules/([^/]+)/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^src/modules/([^/]+)/entities/', pathNot: '^src/modules/$1/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-src-to-test',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};
