// Drives zen-draft's MCP server with the official TypeScript SDK, as an agent
// would. Run by tests/cli/mcp_clients.rs:
//
//   node client.mjs stdio <draft-binary> <repo>
//   node client.mjs http <url> <token>
//
// The SDK validates every structured result against the tool's output schema.
// Prints {created, protocol} as JSON; exits non-zero on the first surprise.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const [mode, a, b] = process.argv.slice(2);
function expect(condition, message) {
  if (!condition) throw new Error(`unexpected: ${message}`);
}

const transport =
  mode === 'stdio'
    ? new StdioClientTransport({ command: a, args: ['--repo', b, 'mcp'], env: process.env, stderr: 'ignore' })
    : new StreamableHTTPClientTransport(new URL(a), { requestInit: { headers: { Authorization: `Bearer ${b}` } } });
const client = new Client({ name: 'zen-draft-tests', version: '1.0.0' });
await client.connect(transport);
try {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name);
  expect(JSON.stringify(names) === JSON.stringify(['create_endpoint_draft', 'discard_draft', 'list_drafts', 'show_draft']), `tools ${names}`);
  expect(tools.every((t) => t.title && t.outputSchema && t.annotations?.openWorldHint === false), 'titles, output schemas, annotations');

  const { resources } = await client.listResources();
  expect(resources.map((r) => r.uri).join() === 'draft://drafts', `resources ${JSON.stringify(resources)}`);
  const { resourceTemplates } = await client.listResourceTemplates();
  expect(resourceTemplates.map((t) => t.uriTemplate).join() === 'draft://drafts/{id}', 'the draft template');
  const { prompts } = await client.listPrompts();
  expect(prompts.map((p) => p.name).join() === 'propose_change', 'the prompt');

  const spec = {
    name: 'github-ci',
    provider: 'github',
    target_url: 'https://hooks.example.com/github-ci',
    rationale: 'CI needs push events (INC-7)',
  };
  const created = await client.callTool({ name: 'create_endpoint_draft', arguments: spec });
  expect(!created.isError, `create refused: ${JSON.stringify(created)}`);
  const id = created.structuredContent.id;
  expect(created.content.some((c) => c.type === 'resource_link' && c.uri === `draft://drafts/${id}`), 'a link to the draft');

  const listed = await client.callTool({ name: 'list_drafts', arguments: { status: 'pending' } });
  expect(listed.structuredContent.drafts.some((d) => d.id === id), 'the draft is listed');
  const shown = await client.callTool({ name: 'show_draft', arguments: { id } });
  expect(shown.structuredContent.checks.every((c) => c.ok), 'every check passes');
  const read = await client.readResource({ uri: `draft://drafts/${id}` });
  expect(JSON.parse(read.contents[0].text).draft.id === id, 'the resource is the draft');

  const secret = process.env.ZEN_TEST_SECRET;
  const refused = await client.callTool({ name: 'create_endpoint_draft', arguments: { ...spec, name: 'leaky', secret_ref: secret } });
  expect(refused.isError && refused.content[0].text.startsWith('RAW_SECRET: '), 'a raw secret is refused');
  expect(!JSON.stringify(refused).includes(secret), 'the refusal never echoes the secret');

  let applied;
  try {
    applied = await client.callTool({ name: 'apply_draft', arguments: { id } });
  } catch (error) {
    applied = { isError: true, thrown: String(error.code ?? error.name) };
  }
  expect(applied.isError, `apply_draft must not exist: ${JSON.stringify(applied)}`);

  const discarded = await client.callTool({ name: 'discard_draft', arguments: { id, reason: 'done testing' } });
  expect(discarded.structuredContent.id === id, 'discarded');
  console.log(JSON.stringify({ created: id, protocol: transport.protocolVersion ?? null }));
} finally {
  await client.close();
}
