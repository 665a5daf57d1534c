import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toolSnippets } from '../../extension/toolSnippets';

describe('"Connect Other Tools" snippets', () => {
  it('give each kind of tool the endpoint URL and key in its own form', () => {
    const info = { baseUrl: 'http://127.0.0.1:4141/v1', apiKey: 'sk-switchyard-abc', keyFile: '/s/endpoint-key', fixedPort: true };
    const byId = Object.fromEntries(toolSnippets(info, 'llama-3.3-70b').map((s) => [s.id, s.text]));
    assert.equal(byId.env, 'export OPENAI_BASE_URL=http://127.0.0.1:4141/v1\nexport OPENAI_API_KEY=sk-switchyard-abc\n');
    assert.equal(byId.aider, 'aider --openai-api-base http://127.0.0.1:4141/v1 --openai-api-key sk-switchyard-abc --model openai/llama-3.3-70b\n');
    assert.match(byId.continue, /^ {2}- name: llama-3\.3-70b via Switchyard\n {4}provider: openai\n {4}model: llama-3\.3-70b\n {4}apiBase: http:\/\/127\.0\.0\.1:4141\/v1\n {4}apiKey: sk-switchyard-abc\n$/);
    assert.match(byId.curl, /^curl http:\/\/127\.0\.0\.1:4141\/v1\/chat\/completions \\\n {2}-H "Authorization: Bearer sk-switchyard-abc"/);
    assert.match(byId.curl, /-d '\{"model":"llama-3\.3-70b","messages":\[\{"role":"user","content":"Hello"\}\]\}'\n$/);
  });
});
