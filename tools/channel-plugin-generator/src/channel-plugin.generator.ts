import { formatFiles, names, type Tree } from '@nx/devkit';

export interface ChannelPluginOptions {
  /** Lower-case with dashes: `whatsapp`, `in-app`. */
  name: string;
  channel: 'email' | 'sms' | 'push';
}

/**
 * `nx g @mmp/channel-plugin-generator:channel-plugin whatsapp --channel=sms` scaffolds
 * libs/channels/<name>: the package `@mmp/channel-<name>` (vendor-tagged, so its SDK stays
 * inside it), a plugin that posts JSON to its provider with the messageId as idempotency key,
 * and a spec that runs the conformance kit against a loopback fake. It edits nothing else:
 * delivery loads the plugin by package name (`SMS_PROVIDER=@mmp/channel-<name>`).
 */
export async function channelPluginGenerator(tree: Tree, options: ChannelPluginOptions): Promise<() => void> {
  if (!/^[a-z][a-z0-9-]*$/.test(options.name))
    throw new Error(`the plugin name must be lower-case letters, digits and dashes: ${options.name}`);
  if (!['email', 'sms', 'push'].includes(options.channel))
    throw new Error(`the channel must be email, sms or push: ${options.channel}`);
  const root = `libs/channels/${options.name}`;
  if (tree.exists(root)) throw new Error(`${root} already exists`);
  const n = names(options.name);
  const pluginConst = `${n.propertyName}Plugin`;
  const packageName = `@mmp/channel-${options.name}`;

  tree.write(
    `${root}/package.json`,
    JSON.stringify(
      { name: packageName, version: '0.0.0', private: true, main: 'src/index.ts', types: 'src/index.ts' },
      null,
      2,
    ) + '\n',
  );
  tree.write(
    `${root}/project.json`,
    JSON.stringify(
      {
        name: `channel-${options.name}`,
        $schema: '../../../node_modules/nx/schemas/project-schema.json',
        sourceRoot: `${root}/src`,
        projectType: 'library',
        tags: ['scope:channels', 'type:channel', `vendor:${options.name}`],
      },
      null,
      2,
    ) + '\n',
  );
  tree.write(
    `${root}/src/index.ts`,
    `export * from './${options.name}.plugin';\nexport { ${pluginConst} as plugin } from './${options.name}.plugin';\n`,
  );
  tree.write(`${root}/src/${options.name}.plugin.ts`, pluginSource(options, pluginConst, n.className));
  tree.write(`${root}/src/${options.name}.plugin.spec.ts`, specSource(options, pluginConst));
  tree.write(`${root}/README.md`, readmeSource(options, packageName));
  await formatFiles(tree);
  return () => {
    // npm links workspace packages at install time.
    console.log(
      `Run npm install so that ${packageName} resolves, then set ${options.channel.toUpperCase()}_PROVIDER=${packageName}.`,
    );
  };
}

export default channelPluginGenerator;

function pluginSource(options: ChannelPluginOptions, pluginConst: string, className: string): string {
  const addressField = options.channel === 'push' ? 'tokens' : 'to';
  return `import { defineChannelPlugin, type ErrorClassification } from '@mmp/channel-sdk';
import { z } from 'zod';

/** The settings delivery passes (the channel's settings plus publicUrl); validated at start-up. */
export const ${className}Settings = z.object({
  /** The provider's API base URL. */
  apiBase: z.url({ error: 'apiBase must be a URL' }).default('https://api.${options.name}.example'),
  apiKey: z.string().min(1, 'apiKey must be set').default('change-me'),
});
export type ${className}Settings = z.infer<typeof ${className}Settings>;

/** A provider answer that was not a success. */
export class ${className}Error extends Error {
  override readonly name = '${className}Error';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** ${options.channel} through ${options.name}. Replace the request with the provider's API (or SDK). */
export const ${pluginConst} = defineChannelPlugin({
  name: '${options.name}',
  channel: '${options.channel}',
  settingsSchema: ${className}Settings,
  idempotency: 'provider',
  defaultRateLimit: { perSecond: 10, burst: 10 },
  create(settings) {
    return {
      async send(message) {
        const response = await fetch(\`\${settings.apiBase}/messages\`, {
          method: 'POST',
          headers: {
            authorization: \`Bearer \${settings.apiKey}\`,
            'content-type': 'application/json',
            'idempotency-key': message.messageId,
          },
          body: JSON.stringify({
            ${addressField}: message.to,
            subject: message.subject ?? message.title,
            text: message.text ?? message.body,
            html: message.html,
          }),
        });
        const json: unknown = await response.json().catch(() => ({}));
        const id: unknown = typeof json === 'object' && json !== null ? Reflect.get(json, 'id') : undefined;
        if (!response.ok || typeof id !== 'string') throw new ${className}Error(response.status, \`${options.name} answered \${response.status}\`);
        return { providerMessageId: id };
      },
      classifyError: classify${className}Error,
    };
  },
});

export function classify${className}Error(error: unknown): ErrorClassification {
  if (error instanceof ${className}Error) {
    if (error.status === 429 || error.status >= 500) return { kind: 'retryable', reason: \`${options.name}_\${error.status}\` };
    return { kind: 'permanent', reason: \`${options.name}_\${error.status}\` };
  }
  const code: unknown = error instanceof Error ? Reflect.get(error, 'code') : undefined;
  // Only a connection never made is safe to retry: after a reset the provider may have the message.
  if (code === 'ECONNREFUSED') return { kind: 'retryable', reason: 'network_ECONNREFUSED' };
  return { kind: 'permanent', reason: '${options.name}_error' };
}
`;
}

function specSource(options: ChannelPluginOptions, pluginConst: string): string {
  return `import { describeChannelConformance, sendJson, startHttpFake, type ReceivedRequest } from '@mmp/channel-testing';
import { ${pluginConst} } from './${options.name}.plugin';

describeChannelConformance({
  plugin: ${pluginConst},
  invalidSettings: [{ apiBase: 'not a url' }, { apiKey: '' }],
  async startFake() {
    const received: ReceivedRequest[] = [];
    const failures: number[] = [];
    let next = 0;
    const server = await startHttpFake((request, res) => {
      const failure = failures.shift();
      if (failure !== undefined) return sendJson(res, failure, { error: 'simulated' });
      received.push({ text: JSON.stringify({ idempotencyKey: request.headers['idempotency-key'], body: request.body }) });
      next += 1;
      sendJson(res, 200, { id: \`${options.name}-\${next}\` });
    });
    return {
      settings: { apiBase: server.url, apiKey: 'test-key' },
      received: async () => received,
      failNext: (kind: 'retryable' | 'permanent') => failures.push(kind === 'retryable' ? 429 : 400),
      stop: () => server.close(),
    };
  },
});
`;
}

function readmeSource(options: ChannelPluginOptions, packageName: string): string {
  return `# ${packageName}

A ${options.channel} channel plugin. Select it with \`${options.channel.toUpperCase()}_PROVIDER=${packageName}\`.
Its spec runs the channel conformance kit (\`@mmp/channel-testing\`) against a loopback fake.
`;
}
