// What "Connect Other Tools…" copies: the endpoint's URL and key in the form each kind of tool takes.
// Pure, so the unit tests read the text.

import type { EndpointInfo } from '../daemon/protocol';

export interface ToolSnippet {
  id: string;
  label: string;
  detail: string;
  text: string;
}

export function toolSnippets(e: EndpointInfo, model: string): ToolSnippet[] {
  return [
    {
      id: 'env',
      label: 'Environment variables',
      detail: 'OPENAI_BASE_URL and OPENAI_API_KEY, which the OpenAI SDKs and most tools read',
      text: `export OPENAI_BASE_URL=${e.baseUrl}\nexport OPENAI_API_KEY=${e.apiKey}\n`,
    },
    {
      id: 'aider',
      label: 'aider',
      detail: 'command line; "openai/" tells aider the model speaks the OpenAI API',
      text: `aider --openai-api-base ${e.baseUrl} --openai-api-key ${e.apiKey} --model openai/${model}\n`,
    },
    {
      id: 'continue',
      label: 'Continue (config.yaml)',
      detail: 'a model entry for the models list',
      text: [
        `  - name: ${model} via Switchyard`,
        '    provider: openai',
        `    model: ${model}`,
        `    apiBase: ${e.baseUrl}`,
        `    apiKey: ${e.apiKey}`,
        '',
      ].join('\n'),
    },
    {
      id: 'curl',
      label: 'curl',
      detail: 'one chat completion, to try it',
      text: `curl ${e.baseUrl}/chat/completions \\\n  -H "Authorization: Bearer ${e.apiKey}" -H "Content-Type: application/json" \\\n  -d '${JSON.stringify({ model, messages: [{ role: 'user', content: 'Hello' }] })}'\n`,
    },
  ];
}
