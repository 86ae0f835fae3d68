// Type-aware lint for the whole monorepo: floating promises and non-exhaustive switches are errors.
import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
  // Libs never import apps (nor tooling, tests or benches).
  { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
  // libs/common holds contracts: it imports no other project of ours.
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: [] },
  // The .bible format library stands alone (clients embed it).
  { sourceTag: 'scope:format', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:tooling', onlyDependOnLibsWithTags: ['type:lib', 'type:app'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
  { sourceTag: 'type:bench', onlyDependOnLibsWithTags: ['type:lib', 'type:tooling'] },
];

const boundaries = (constraints) => ({
  plugins: { '@nx': nx },
  rules: {
    '@nx/enforce-module-boundaries': [
      'error',
      {
        // Two imports across the usual lines, each by its exact path: the client generator
        // reads the gateway's OpenAPI document, and tests and benches seed through the seed
        // CLI's module (scripts/ is not a package).
        allow: [
          '^@bible/api-gateway/dist/openapi/document$',
          '^(\\.\\./)+scripts/dist/seed/run-seed$',
        ],
        depConstraints: constraints,
      },
    ],
  },
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.stack/**',
      '.nx/**',
      'bench/results/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: [
                'describe',
                'it',
                'test',
                'suite',
                'before',
                'after',
                'beforeEach',
                'afterEach',
              ],
            },
          ],
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { attributes: false } },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  // Module boundaries over the Nx project graph; tags come from tools/nx-projects.js.
  boundaries([
    ...depConstraints,
    // Production libs never import test helpers.
    { sourceTag: 'scope:domain', notDependOnLibsWithTags: ['scope:testing'] },
  ]),
  // A lib's own tests may (e.g. a throwaway TLS certificate from @bible/testing).
  { files: ['libs/**/*.spec.ts', 'libs/**/*.int-spec.ts'], ...boundaries(depConstraints) },
);
