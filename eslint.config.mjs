// ESLint 9 flat config: `npm run lint`, run by .ci/run after typecheck.
// typescript-eslint `recommended-type-checked` (types from tsconfig.json through the project
// service) on every .ts file, and the domain boundary rule. Formatting is Prettier's
// (`npm run format`); eslint-config-prettier turns off the rules that would disagree with it.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

// ---------------------------------------------------------------------------------------------
// The boundary rule (house rules: "domains keep to their rooms"). A domain is a folder of src/.
// Another domain's persistence (*.entity), writer, raw SQL and resolvers are private: use what the
// domain exports from its index.ts. `^(\.\./)+<folder>/...` is exactly "a sibling folder of src/",
// so same-domain imports (`./x.entity`) and the composition root (src/app.ts, src/schema.ts,
// src/context.ts, which import `./<domain>/...`) are not matched.
const PRIVATE_OF_ANOTHER_DOMAIN = {
  regex: '^(\\.\\./)+[^./][^/]*/(.+/)?[^/]+\\.(entity|writer|sql|resolver)(\\.js)?$',
  message: "Another domain's entity/writer/sql/resolver files are private: import what its index.ts exports (boundary rule, README 'Project layout').",
};
const ENTITY_WRITER_SQL_RESOLVER_EXCEPT_ENTITY = {
  regex: '^(\\.\\./)+[^./][^/]*/(.+/)?[^/]+\\.(writer|sql|resolver)(\\.js)?$',
  message: "Another domain's writer/sql/resolver files are private: import what its index.ts exports (boundary rule).",
};
const PLATFORM_MESSAGE = 'platform/ imports no domain (house rules): pass what it needs in from the composition root.';

// One unit of work (house rules, issue 16): a use case runs in `transact(work)` from
// platform/db/unit-of-work.ts, which opens the transaction, retries it and publishes its outbox after
// commit. Nothing else in src/ opens a transaction: no import of platform/db/transaction.ts, and no
// `em.transactional(...)` / `em.begin()` of its own.
const OWN_TRANSACTION = {
  regex: '(^|/)platform/db/transaction(\\.js)?$',
  message: 'Open transactions only through transact(work) (platform/db/unit-of-work.ts): it retries and publishes after commit in one place.',
};
const OWN_TRANSACTION_CALLS = [
  { selector: "CallExpression[callee.property.name='transactional']", message: 'Open transactions only through transact(work) (platform/db/unit-of-work.ts).' },
  {
    selector: 'CallExpression[callee.property.name=/^(begin|commit|rollback)$/][callee.object.name=/^(em|tx|orm)$/]',
    message: 'Open transactions only through transact(work) (platform/db/unit-of-work.ts).',
  },
];

const node = {
  process: 'readonly',
  console: 'readonly',
  Buffer: 'readonly',
  URL: 'readonly',
  fetch: 'readonly',
  performance: 'readonly',
  global: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
  setInterval: 'readonly',
  clearInterval: 'readonly',
  setImmediate: 'readonly',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'schema/generated/**', 'examples/**', 'coverage/**'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // `_name` marks a parameter a signature requires but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // `const metrics = this` names the collector inside the plugin objects it hands to Apollo.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['metrics'] }],
      // Off: Apollo's plugin hooks and context, and transaction(work), are typed to return a
      // Promise, so an `async` body with nothing to await is how those interfaces are implemented.
      '@typescript-eslint/require-await': 'off',
      // An async iterator's throw(error) rejects with whatever it was given (the protocol's, not ours).
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
    },
  },
  // Plain JavaScript (bench drivers, scripts) has no types to check.
  { files: ['**/*.mjs', '**/*.js'], ...tseslint.configs.disableTypeChecked },
  { files: ['**/*.mjs', '**/*.js'], languageOptions: { globals: node } },
  {
    // Tests and benchmarks read untyped GraphQL JSON (`res.data.x`, `value.data`): `any` is the
    // honest type there, and following it is what a test does. Every other type-checked rule stays on.
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },

  // --- boundary rule ----------------------------------------------------------------------------
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [PRIVATE_OF_ANOTHER_DOMAIN, OWN_TRANSACTION] }] } },
  { files: ['src/**/*.ts'], ignores: ['src/platform/db/**'], rules: { 'no-restricted-syntax': ['error', ...OWN_TRANSACTION_CALLS] } },
  {
    // ORM relations (`@ManyToOne(() => Member)`) need the other entity class: entities may import
    // entities, and nothing else private.
    files: ['src/**/*.entity.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ENTITY_WRITER_SQL_RESOLVER_EXCEPT_ENTITY, OWN_TRANSACTION] }] },
  },
  {
    // Not domains: command-line entry points (each its own composition root) and the demo seed
    // data, which creates entities of every domain on purpose.
    files: ['src/cli/**', 'src/demo/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: [OWN_TRANSACTION] }] },
  },
  // platform/ imports no domain: nothing relative may leave src/platform (depth by depth).
  { files: ['src/platform/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./', message: PLATFORM_MESSAGE }] }] } },
  {
    files: ['src/platform/*/*.ts'],
    // migrations/ is not a domain (the ORM applies it), hence the exception in the pattern.
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./\\.\\./(?!\\.\\./migrations$)', message: PLATFORM_MESSAGE }] }] },
  },

  // No exceptions to the boundary rule remain (issue 16 removed the last ones).

  // Last: turns off the stylistic rules Prettier owns.
  prettier,
);
