import { readProjectConfiguration, type Tree } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import { sampleMessage, sendJson, startHttpFake } from '@mmp/channel-testing';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { channelPluginGenerator } from './channel-plugin.generator';

describe('the channel plugin generator', () => {
  let tree: Tree;
  let workspaceFiles: Map<string, string | undefined>;
  beforeEach(async () => {
    tree = createTreeWithEmptyWorkspace();
    workspaceFiles = new Map(tree.listChanges().map((c) => [c.path, c.content?.toString('utf-8')]));
    await channelPluginGenerator(tree, { name: 'whats-app', channel: 'sms' });
  });

  it('scaffolds a vendor-tagged lib with its plugin, index and conformance spec, and nothing else', () => {
    expect(readProjectConfiguration(tree, 'channel-whats-app')).toMatchObject({
      root: 'libs/channels/whats-app',
      projectType: 'library',
      tags: ['scope:channels', 'type:channel', 'vendor:whats-app'],
    });
    expect(JSON.parse(tree.read('libs/channels/whats-app/package.json', 'utf-8')!)).toMatchObject({
      name: '@mmp/channel-whats-app',
    });
    expect(tree.read('libs/channels/whats-app/src/index.ts', 'utf-8')).toContain(
      "export { whatsAppPlugin as plugin } from './whats-app.plugin';",
    );
    const spec = tree.read('libs/channels/whats-app/src/whats-app.plugin.spec.ts', 'utf-8')!;
    expect(spec).toContain('describeChannelConformance({');
    expect(spec).toContain('plugin: whatsAppPlugin,');
    const elsewhere = tree
      .listChanges()
      .filter((c) => !c.path.startsWith('libs/channels/whats-app/'))
      .filter((c) => workspaceFiles.get(c.path) !== c.content?.toString('utf-8'));
    expect(elsewhere.map((c) => c.path)).toEqual([]);
  });

  it('refuses a bad name, a bad channel and an existing plugin', async () => {
    await expect(channelPluginGenerator(tree, { name: 'WhatsApp', channel: 'sms' })).rejects.toThrow(
      /lower-case/,
    );
    await expect(channelPluginGenerator(tree, { name: 'x', channel: 'fax' as 'sms' })).rejects.toThrow(
      /email, sms or push/,
    );
    await expect(channelPluginGenerator(tree, { name: 'whats-app', channel: 'sms' })).rejects.toThrow(
      /already exists/,
    );
  });

  it('generates a plugin that compiles, sends with the idempotency key and classifies errors', async () => {
    const out = join(__dirname, '../../../tmp', `generated-${process.pid}`);
    try {
      for (const change of tree.listChanges()) {
        if (!change.path.startsWith('libs/channels/whats-app/') || !change.content) continue;
        const target = join(out, change.path);
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, change.content);
      }
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the generated file exists only at run time
      const generated = require(join(out, 'libs/channels/whats-app/src/index.ts'));
      const plugin = generated.plugin;
      expect(plugin).toMatchObject({ name: 'whats-app', channel: 'sms', idempotency: 'provider' });
      const seen: { key: unknown; body: unknown }[] = [];
      let fail = 0;
      const server = await startHttpFake((request, res) => {
        if (fail) return sendJson(res, fail, {});
        seen.push({ key: request.headers['idempotency-key'], body: JSON.parse(request.body) });
        sendJson(res, 200, { id: 'p-1' });
      });
      try {
        const sender = plugin.create(plugin.settingsSchema.parse({ apiBase: server.url, apiKey: 'k' }));
        expect(await sender.send(sampleMessage('sms', { messageId: 'msg_gen' }))).toEqual({
          providerMessageId: 'p-1',
        });
        expect(seen).toEqual([{ key: 'msg_gen', body: { to: '+14155550100', text: 'Happy birthday Ann!' } }]);
        fail = 503;
        expect(
          sender.classifyError(await sender.send(sampleMessage('sms')).catch((e: unknown) => e)),
        ).toEqual({ kind: 'retryable', reason: 'whats-app_503' });
        fail = 400;
        expect(
          sender.classifyError(await sender.send(sampleMessage('sms')).catch((e: unknown) => e)),
        ).toEqual({ kind: 'permanent', reason: 'whats-app_400' });
      } finally {
        await server.close();
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
