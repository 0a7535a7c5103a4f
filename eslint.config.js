// ESLint flat config: JavaScript and typescript-eslint recommended rules. Formatting is Prettier's job (.prettierrc.json).
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', 'coverage/', '.cache/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (callback signatures, destructuring that drops a field).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }
      ],
      // Parsed YAML (kubeconfigs, remote secrets) is untyped by nature; `any` there is a choice, not an accident.
      '@typescript-eslint/no-explicit-any': 'off',
      // Certificate subjects must reject control characters: the regular expressions name them on purpose.
      'no-control-regex': 'off',
      // Errors are rewrapped on purpose into one user-facing message that names the input or cluster; the cause's stack is noise there.
      'preserve-caught-error': 'off',
      // Flags defensive initial values (`let found = false` before a try); TypeScript's definite-assignment checks cover what matters.
      'no-useless-assignment': 'off'
    }
  },
  {
    // Typed rules for the action's own code: the ones that catch real bugs. A promise nobody awaits loses its error
    // (and a step could end before its command); a promise where a boolean is expected is always true.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true, allowNullish: true }
      ],
      '@typescript-eslint/no-base-to-string': 'error',
      '@typescript-eslint/no-unsafe-argument': 'error',
      '@typescript-eslint/no-unsafe-return': 'error',
      // A `default` that throws covers the rest of a union on purpose (key types node:crypto may add).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }]
    }
  },
  {
    // Tests keep loop bodies terse (`done.add(id), (progress = true)`).
    files: ['**/__tests__/**'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' }
  },
  {
    // The simulator's istioctl entry is CommonJS (bundled by ncc into a single executable).
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' }
  }
)
