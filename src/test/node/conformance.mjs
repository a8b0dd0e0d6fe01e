// Conformance of the local model server with a real, independent client: the official `openai`
// npm package. Usage: node conformance.mjs BASE_URL REJECTING_BASE_URL
// (the first server must run with a low --rpm, the second with --fail-permanently 401).
import OpenAI from 'openai';

const baseURL = process.argv[2];
const rejectingURL = process.argv[3];
const client = new OpenAI({ baseURL, apiKey: 'x', maxRetries: 0 });
let passed = 0;
let failed = 0;

async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok   ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['category', 'priority', 'sentiment', 'summary', 'draft_reply', 'confidence'],
  properties: {
    category: { type: 'string', enum: ['billing', 'shipping', 'other'] },
    priority: { type: 'string', enum: ['low', 'normal', 'high', 'urgent'] },
    sentiment: { type: 'string', enum: ['negative', 'neutral', 'positive'] },
    summary: { type: 'string' },
    draft_reply: { type: 'string' },
    confidence: { type: 'number' },
  },
};

const request = {
  model: 'local-triage',
  temperature: 0,
  max_tokens: 300,
  messages: [
    { role: 'system', content: 'Triage.\n\nCategories:\n- billing: Invoices, refunds.\n- shipping: Orders, delivery.\n- other: Anything else.' },
    { role: 'user', content: 'Ticket T-1\n\nI was charged twice, please refund me.' },
  ],
  response_format: { type: 'json_schema', json_schema: { name: 'triage', strict: true, schema } },
};

await check('models.list names the model', async () => {
  const models = await client.models.list();
  assert(models.data.some((m) => m.id === 'local-triage'), JSON.stringify(models.data));
});

await check('chat.completions.create returns a schema-valid answer with usage', async () => {
  const completion = await client.chat.completions.create(request);
  const choice = completion.choices[0];
  assert(choice.finish_reason === 'stop', `finish_reason ${choice.finish_reason}`);
  const answer = JSON.parse(choice.message.content);
  assert(answer.category === 'billing', `category ${answer.category}`);
  assert(completion.usage.prompt_tokens > 0, 'usage.prompt_tokens');
});

await check('a malformed request is a BadRequestError with an OpenAI error body', async () => {
  try {
    await client.chat.completions.create({ model: 'local-triage', messages: [] });
    throw new Error('no error');
  } catch (e) {
    assert(e instanceof OpenAI.BadRequestError, `got ${e && e.constructor && e.constructor.name}`);
    assert(e.status === 400 && e.error && e.error.message, 'status and error.message');
  }
});

await check('json_object mode: valid JSON with a category from the prompt', async () => {
  const { response_format, ...rest } = request;
  const completion = await client.chat.completions.create({
    ...rest,
    response_format: { type: 'json_object' },
  });
  const answer = JSON.parse(completion.choices[0].message.content);
  assert(['billing', 'shipping', 'other'].includes(answer.category), `category ${answer.category}`);
});

await check('a rejected key is an AuthenticationError with code invalid_api_key', async () => {
  const rejecting = new OpenAI({ baseURL: rejectingURL, apiKey: 'sk-wrong', maxRetries: 0 });
  try {
    await rejecting.chat.completions.create(request);
    throw new Error('no error');
  } catch (e) {
    assert(e instanceof OpenAI.AuthenticationError, `got ${e && e.constructor && e.constructor.name}`);
    assert(e.status === 401 && e.error.code === 'invalid_api_key', JSON.stringify(e.error));
  }
});

await check('during an outage: InternalServerError 503, then answers again', async () => {
  const origin = baseURL.replace(/\/v1\/?$/, '');
  const started = await fetch(`${origin}/admin/outage?seconds=1`, { method: 'POST' });
  assert(started.ok, `POST /admin/outage: ${started.status}`);
  try {
    await client.chat.completions.create(request);
    throw new Error('no error');
  } catch (e) {
    assert(e instanceof OpenAI.InternalServerError, `got ${e && e.constructor && e.constructor.name}`);
    assert(e.status === 503, `status ${e.status}`);
  }
  await new Promise((r) => setTimeout(r, 1200));
  const completion = await client.chat.completions.create(request);
  assert(completion.choices[0].finish_reason === 'stop', 'answers after the outage');
});

await check('over the rate limit: RateLimitError with Retry-After and x-ratelimit headers', async () => {
  let limited = null;
  for (let i = 0; i < 50 && !limited; i++) {
    try {
      await client.chat.completions.create(request);
    } catch (e) {
      limited = e;
    }
  }
  assert(limited instanceof OpenAI.RateLimitError, `got ${limited}`);
  assert(limited.status === 429, 'status 429');
  assert(limited.error && limited.error.code === 'rate_limit_exceeded', JSON.stringify(limited.error));
  assert(Number(limited.headers.get('retry-after')) >= 1, 'retry-after');
  assert(limited.headers.get('x-ratelimit-remaining-requests') === '0', 'x-ratelimit-remaining-requests');
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
