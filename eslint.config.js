// Flat config: typescript-eslint's recommended rules; `any` is banned at module boundaries.
const tseslint = require('typescript-eslint');
module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'firmware-bridge/firmware/**', 'coverage/**', 'agent/config/generated/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
);
