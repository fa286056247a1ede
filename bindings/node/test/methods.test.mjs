import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { Client, ProviderNotFoundError, UnsupportedError, InvalidParametersError } from '../lib/index.mjs'
import { startSimulator, API_KEY, USER, REPLY } from './helpers.mjs'

let sim
let client
before(async () => {
  sim = await startSimulator()
  client = sim.client()
})
after(() => sim.stop())

test('chat: text, usage and exact cost, camelCase in and out', async () => {
  const r = await client.chat({ model: 'openai/gpt-4o-mini', messages: USER, maxTokens: 50, extra: { logit_bias: { 42: 1 } } })
  assert.equal(r.choices[0].message.content, REPLY)
  assert.equal(r.choices[0].finishReason, 'stop')
  assert.equal(r.provider, 'openai')
  assert.deepEqual([r.usage.promptTokens, r.usage.completionTokens, r.usage.totalTokens], [19, 11, 30])
  // 19 × $0.15/M + 11 × $0.60/M, exactly, as a string.
  assert.equal(r.cost.total, '0.00000945')
  assert.equal(r.cost.input, '0.00000285')
  assert.equal(typeof r.cost.total, 'string')
  const wire = (await sim.lastRequest()).body
  assert.equal(wire.max_tokens ?? wire.max_completion_tokens, 50)
  assert.deepEqual(wire.logit_bias, { 42: 1 })
})

test('chat: snake_case options as copied from OpenAI code are accepted too', async () => {
  const r = await client.chat({ model: 'openai/gpt-4o-mini', messages: USER, max_tokens: 3 })
  assert.equal(r.choices[0].message.content, 'Hello from the')
  assert.equal(r.choices[0].finishReason, 'length')
})

test('chat: tool calls round-trip with the returned message sent back as is', async () => {
  const tools = [{
    type: 'function',
    function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  }]
  const first = await client.chat({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools, toolChoice: 'auto' })
  const msg = first.choices[0].message
  assert.equal(first.choices[0].finishReason, 'tool_calls')
  assert.equal(msg.toolCalls[0].function.name, 'get_weather')
  assert.deepEqual(JSON.parse(msg.toolCalls[0].function.arguments), { city: 'sample' })
  // The schema is user data: its keys must reach the provider unchanged.
  assert.deepEqual((await sim.lastRequest()).body.tools[0].function.parameters.required, ['city'])
  const second = await client.chat({
    model: 'openai/gpt-4o-mini',
    messages: [
      { role: 'user', content: 'Weather in Paris?' },
      msg,
      { role: 'tool', tool_call_id: msg.toolCalls[0].id, content: 'sunny' },
    ],
    tools,
  })
  assert.equal(second.choices[0].message.content, 'Tool result received: sunny')
  const wire = (await sim.lastRequest()).body.messages
  assert.equal(wire[1].tool_calls[0].id, msg.toolCalls[0].id)
  assert.equal(wire[2].tool_call_id, msg.toolCalls[0].id)
})

test('chat on Anthropic, Gemini, Cohere and Mistral through the same call', async () => {
  for (const model of ['anthropic/claude-haiku-4-5', 'google/gemini-2.5-flash', 'cohere/command-r-plus-08-2024', 'mistral/mistral-small-latest']) {
    const r = await client.chat({ model, messages: USER })
    assert.match(r.choices[0].message.content, /You said: Say hello to the world/, model)
    assert.equal(r.usage.completionTokens, 11, model)
  }
})

test('completion', async () => {
  const r = await client.completion({ model: 'openai/gpt-4o-mini', prompt: 'Say hello' })
  assert.equal(r.choices[0].text, 'Hello from the simulator. You said: Say hello')
  assert.equal(r.provider, 'openai')
  assert.equal(typeof r.cost.total, 'string')
})

test('embeddings with exact cost', async () => {
  const r = await client.embeddings({ model: 'openai/text-embedding-3-small', input: ['hello world', 'hello world'] })
  assert.equal(r.data.length, 2)
  assert.equal(r.data[0].embedding.length, 1536)
  assert.deepEqual(r.data[0].embedding, r.data[1].embedding)
  assert.equal(r.usage.promptTokens, 4)
  // 4 × $0.02/M
  assert.equal(r.cost.total, '0.00000008')
})

test('images with per-image price', async () => {
  const r = await client.images({ model: 'openai/dall-e-3', prompt: 'a cat', size: '1024x1024', quality: 'standard' })
  assert.equal(r.data.length, 1)
  assert.match(r.data[0].url, /__sim\/images\//)
  assert.equal(typeof r.data[0].revisedPrompt, 'string')
  assert.equal(r.cost.total, '0.04')
})

test('models, model, cost and imageCost read the catalog', async () => {
  const all = await client.models()
  assert.ok(all.length > 50)
  const openai = await client.models({ provider: 'openai' })
  assert.ok(openai.length > 0 && openai.every((m) => m.provider === 'openai'))
  const m = await client.model('openai/gpt-4o-mini')
  assert.equal(m.pricing.input, '0.15')
  assert.equal(m.contextWindow, 128000)
  assert.equal(m.capabilities.promptCaching, true)
  const cost = await client.cost('openai/gpt-4o-mini', { promptTokens: 23, completionTokens: 18 })
  assert.equal(cost.total, '0.00001425')
  assert.deepEqual(await client.cost('openai/gpt-4o-mini', { prompt_tokens: 23, completion_tokens: 18 }), cost)
  assert.equal((await client.imageCost('openai/dall-e-3', { n: 2, size: '1024x1792', quality: 'hd' })).total, '0.24')
})

test('fallbacks per call: the next model answers when the first fails', async () => {
  await sim.fault('openai', 'status=503')
  const r = await client.chat({ model: 'openai/gpt-4o-mini', messages: USER, fallbacks: ['mistral/mistral-small-latest'] })
  assert.equal(r.provider, 'mistral')
  assert.equal(r.choices[0].message.content, REPLY)
})

test('keys come from process.env by default, or from an explicit env', async () => {
  const saved = { ...process.env }
  try {
    process.env.OPENAI_API_KEY = API_KEY
    process.env.OPENAI_BASE_URL = `${sim.root}/openai/v1`
    const fromProcess = new Client()
    assert.ok(fromProcess.providers.includes('openai'))
    assert.equal((await fromProcess.chat({ model: 'openai/gpt-4o-mini', messages: USER })).choices[0].message.content, REPLY)
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
  const explicit = new Client({ env: { MISTRAL_API_KEY: API_KEY, MISTRAL_BASE_URL: `${sim.root}/mistral` } })
  assert.deepEqual(explicit.providers.filter((p) => p === 'mistral' || p === 'openai'), ['mistral'])
  await assert.rejects(explicit.chat({ model: 'openai/gpt-4o-mini', messages: USER }), ProviderNotFoundError)
})

test('OpenAI-compatible providers by name', async () => {
  const c = new Client({ env: false, providers: { local: { baseUrl: `${sim.root}/openai/v1`, apiKey: API_KEY } } })
  const r = await c.chat({ model: 'local/gpt-4o-mini', messages: USER })
  assert.equal(r.provider, 'local')
  assert.equal(r.cost, undefined, 'an uncatalogued model is unpriced, never free')
})

test('hosted mode: constructor options are accepted; balance needs hosted mode', async () => {
  const hosted = new Client({ baseUrl: 'http://127.0.0.1:9/v1', apiKey: 'ixr-test' })
  assert.equal(hosted.isHosted, true)
  assert.deepEqual(hosted.providers, ['indoxrouter'])
  assert.equal(client.isHosted, false)
  await assert.rejects(client.balance(), UnsupportedError)
  await assert.rejects(client.usage({ limit: 10 }), UnsupportedError)
  assert.throws(() => new Client({ env: false, apiKey: 'ixr-x' }), InvalidParametersError)
  assert.throws(() => new Client({ env: false, timeout: -1 }), InvalidParametersError)
})
