import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import * as ixr from '../lib/index.mjs'
import { startSimulator, USER } from './helpers.mjs'

const {
  IndoxRouterError, AuthenticationError, PermissionDeniedError, RateLimitError, InsufficientCreditsError,
  InvalidParametersError, ModelNotFoundError, NotFoundError, ProviderNotFoundError, ProviderError, NetworkError,
  TimeoutError, UnsupportedError,
} = ixr

let sim
let client
before(async () => {
  sim = await startSimulator()
  client = sim.client()
})
after(() => sim.stop())

const chat = (c = client, extra = {}) => c.chat({ model: 'openai/gpt-4o-mini', messages: USER, ...extra })

/** Asserts `promise` rejects with exactly `Class` (and is an IndoxRouterError and an Error). */
async function rejectsWith(promise, Class, code, status) {
  let err
  try {
    await promise
  } catch (e) {
    err = e
  }
  assert.ok(err, `expected ${Class.name}`)
  assert.equal(err.constructor, Class, `${err.constructor.name}: ${err.message}`)
  assert.ok(err instanceof IndoxRouterError && err instanceof Error)
  assert.equal(err.name, Class.name)
  assert.equal(err.code, code)
  if (status !== undefined) assert.equal(err.status, status)
  assert.ok(!err.message.startsWith('ixr:'), err.message)
  return err
}

test('AuthenticationError on a rejected key, with the key never in the message', async () => {
  const bad = sim.client({ apiKeys: { openai: 'sk-wrong-key-0123456789' } })
  const e = await rejectsWith(chat(bad), AuthenticationError, 'authentication', 401)
  assert.equal(e.provider, 'openai')
  assert.ok(!e.message.includes('sk-wrong-key-0123456789'))
})

test('PermissionDeniedError on 403', async () => {
  await sim.fault('openai', 'status=403')
  await rejectsWith(chat(), PermissionDeniedError, 'permission', 403)
})

test('RateLimitError carries retryAfter in seconds', async () => {
  await sim.fault('openai', 'status=429;retry_after=7')
  const e = await rejectsWith(chat(), RateLimitError, 'rate_limited', 429)
  assert.equal(e.retryAfter, 7)
})

test('InsufficientCreditsError on a quota error', async () => {
  await sim.fault('openai', 'status=429;quota')
  await rejectsWith(chat(), InsufficientCreditsError, 'insufficient_quota', 402)
})

test('InvalidParametersError for a malformed request and for a provider 400', async () => {
  await rejectsWith(client.chat({ model: 'openai/gpt-4o-mini', messages: 'hi' }), InvalidParametersError, 'invalid_request', 400)
  await rejectsWith(client.chat('nope'), InvalidParametersError, 'invalid_request', 400)
  await sim.fault('openai', 'status=400')
  await rejectsWith(chat(), InvalidParametersError, 'invalid_request', 400)
})

test('ModelNotFoundError with suggestions, before anything is sent', async () => {
  const before = await sim.count()
  const e = await rejectsWith(client.chat({ model: 'gpt-4o-mni', messages: USER }), ModelNotFoundError, 'model_not_found', 404)
  assert.ok(e instanceof NotFoundError)
  assert.ok(e.suggestions.includes('openai/gpt-4o-mini'))
  assert.equal(await sim.count(), before)
  await rejectsWith(client.model('openai/nothing-here'), ModelNotFoundError, 'model_not_found', 404)
})

test('ModelNotFoundError from the provider', async () => {
  await rejectsWith(client.chat({ model: 'openai/davinci-does-not-exist', messages: USER }), ModelNotFoundError, 'model_not_found', 404)
})

test('ProviderNotFoundError for a provider without a key, naming the variable', async () => {
  const c = sim.client({ apiKeys: { openai: 'sk-x' }, baseUrls: {} })
  const e = await rejectsWith(c.chat({ model: 'cohere/command-r-plus-08-2024', messages: USER }), ProviderNotFoundError, 'not_configured', 503)
  assert.equal(e.envVar, 'COHERE_API_KEY')
})

test('ProviderError carries the upstream status', async () => {
  await sim.fault('openai', 'status=503')
  const e = await rejectsWith(chat(), ProviderError, 'provider_unavailable', 503)
  assert.ok(!(e instanceof NetworkError))
})

test('NetworkError when nothing answers', async () => {
  const c = sim.client({ baseUrls: { openai: 'http://127.0.0.1:9/v1' } })
  const e = await rejectsWith(chat(c), NetworkError, 'provider_unavailable')
  assert.ok(e instanceof ProviderError)
})

test('TimeoutError when the provider is slower than the timeout', async () => {
  await sim.fault('openai', 'slow=3000ms')
  const c = sim.client({ timeout: 200 })
  await rejectsWith(chat(c), TimeoutError, 'timeout', 504)
})

test('UnsupportedError for a capability the provider lacks', async () => {
  await rejectsWith(client.images({ model: 'mistral/mistral-small-latest', prompt: 'a cat' }), UnsupportedError, 'unsupported', 400)
})

test('retries: a retryable error is retried per maxRetries', async () => {
  const c = sim.client({ maxRetries: 1 })
  await sim.fault('openai', 'status=503')
  const before = await sim.count()
  const r = await chat(c)
  assert.equal(r.provider, 'openai')
  assert.equal(await sim.count(), before + 2)
})
