// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layering of the house (../shared/STYLE.md): ui -> core <- probes, store. Core is pure decisions and
// ports; it never reaches a terminal, a process, a file or a database itself.
const CORE_FORBIDDEN = ['ink', 'ink-*', 'react', 'react/*', 'execa', 'better-sqlite3', 'pg', 'zustand', 'node-pty'];
const CORE_FORBIDDEN_NODE = ['node:fs', 'node:fs/*', 'fs', 'fs/*', 'node:child_process', 'child_process'];

/** Import restrictions for one layer, as `no-restricted-imports` patterns. */
function layer(groups, message) {
  return { patterns: [{ group: groups, message }] };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**', 'test/lint/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['eslint.config.js', 'test/store/fixtures/*.mjs', 'test/runtime/fixtures/*.mjs'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unnecessary-condition': ['error', { allowConstantLoopConditions: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-binary-expression': 'error',
      // The sanitizer, the escape parsers and their tests match control characters on purpose.
      'no-control-regex': 'off',
      // Fakes and adapters implement async ports with synchronous bodies; an async signature is the contract.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Plain-JS helper scripts run by tests as child processes: no types to check against.
    files: ['**/*.mjs', 'eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        layer(
          [...CORE_FORBIDDEN, ...CORE_FORBIDDEN_NODE, '../ui/*', '../probes/*', '../store/*', '../cli/*'],
          'core decides; edges act: core imports no UI, process, file or database module, and no adapter (STYLE.md)',
        ),
      ],
    },
  },
  {
    files: ['src/ui/**/*.ts', 'src/ui/**/*.tsx'],
    rules: {
      'no-restricted-imports': [
        'error',
        layer(
          ['../store/*', '../probes/*', 'better-sqlite3', 'execa', 'pg'],
          'ui talks to core only: reads and changes go through the core service (STYLE.md)',
        ),
      ],
    },
  },
  {
    files: ['src/probes/**/*.ts', 'src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        layer(['../ui/*', 'ink', 'react', '../cli/*'], 'adapters implement core ports; they never reach the UI'),
      ],
    },
  },
);
