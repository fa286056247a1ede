// Hosted mode against a real indoxrouter-server whose providers are the
// simulator: construction by API key and by password, the server's charge as
// `cost`, balance() and usage(), streams (cost at the end, early break,
// AbortSignal), embeddings, concurrency, and the server's errors as classes.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

import {
  Client, IndoxRouterError, AuthenticationError, InsufficientCreditsError, ModelNotFoundError, NotFoundError,
  InvalidParametersError, UnsupportedError, AbortError, RateLimitError,
} from '../lib/index.mjs'
import { startSimulator, startServer, pico, REPO_ROOT } from './helpers.mjs'

const run = promisify(execFile)

const MODEL = 'openai/gpt-4o-mini'
const say = (content) => [{ role: 'user', content }]
const REPLY = 'Hello from the simulator. You said: Say hello'
const FIVE = pico('5')

let sim
let server
before(async () => {
  sim = await startSimulator()
  server = await startServer(sim)
})
after(async () => {
  await server?.stop()
  sim?.stop()
})

/** A fresh $5 user and a client for it, so balances never see another test's charges. */
async function fresh(credits = '5') {
  const user = await server.makeUser(credits)
  const client = new Client({ baseUrl: server.url, apiKey: user.key, maxRetries: 0 })
  return { user, client }
}

async function waitFor(what, fn, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

test('new Client({ baseUrl, apiKey }): chat charges exactly the reported cost', async () => {
  const { user, client } = await fresh()
  assert.equal(client.isHosted, true)
  const before = await client.balance()
  assert.deepEqual(before, { username: user.name, balance: '5', available: '5' })

  const r = await client.chat({ model: MODEL, messages: say('Say hello') })
  assert.equal(r.choices[0].message.content, REPLY)
  // The server's answer: the provider it routed to, the model as `provider/model`.
  assert.equal(r.provider, 'openai')
  assert.equal(r.model, MODEL)
  assert.equal(typeof r.cost.total, 'string')
  const cost = pico(r.cost.total)
  assert.ok(cost > 0n)

  const after = await client.balance()
  assert.equal(pico(before.balance) - pico(after.balance), cost)
  assert.equal(after.available, after.balance)
  assert.equal(await user.balance(), after.balance, "the server's account API agrees")

  const page = await client.usage()
  assert.equal(page.data.length, 1)
  assert.equal(page.nextCursor, null)
  const [row] = page.data
  assert.equal(row.endpoint, 'chat')
  assert.equal(row.stream, false)
  assert.equal(row.status, 'completed')
  assert.equal(pico(row.cost), cost)
  assert.equal(row.promptTokens, r.usage.promptTokens)
  assert.equal(row.completionTokens, r.usage.completionTokens)
  assert.equal(typeof row.requestId, 'string')
  assert.ok(!Number.isNaN(Date.parse(row.createdAt)))
})

test('usage() pages newest first', async () => {
  const { client } = await fresh()
  const costs = []
  for (const n of [1, 200, 2000]) {
    costs.push((await client.chat({ model: MODEL, messages: say('word '.repeat(n)) })).cost.total)
  }
  assert.equal(new Set(costs).size, 3)
  const first = await client.usage({ limit: 2 })
  assert.deepEqual(first.data.map((r) => r.cost), [costs[2], costs[1]])
  assert.equal(typeof first.nextCursor, 'string')
  const rest = await client.usage({ limit: 2, cursor: first.nextCursor })
  assert.deepEqual(rest.data.map((r) => r.cost), [costs[0]])
  assert.equal(rest.nextCursor, null)
})

test('Client.login with a username and password', async () => {
  const { user } = await fresh()
  const client = await Client.login({ baseUrl: server.url, username: user.name, password: user.password, maxRetries: 0 })
  assert.equal(client.isHosted, true)
  assert.equal((await client.balance()).username, user.name)
  const r = await client.chat({ model: MODEL, messages: say('Say hello') })
  assert.equal(pico(await user.balance()), FIVE - pico(r.cost.total))

  let err
  try {
    await Client.login({ baseUrl: server.url, username: user.name, password: 'not-the-password' })
  } catch (e) {
    err = e
  }
  assert.ok(err instanceof AuthenticationError, String(err))
  assert.equal(err.code, 'authentication')
  assert.equal(err.status, 401)
  assert.ok(!err.message.includes('not-the-password'))
})

test('hosted options are checked', () => {
  assert.throws(() => new Client({ baseUrl: server.url }), InvalidParametersError)
  assert.throws(() => new Client({ apiKey: 'ixr-x' }), InvalidParametersError)
})

test('a stream carries the cost on its last chunk and the charge is settled when it ends', async () => {
  const { user, client } = await fresh()
  const chunks = []
  for await (const chunk of client.chatStream({ model: MODEL, messages: say('Say hello') })) chunks.push(chunk)
  assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), REPLY)
  assert.deepEqual(new Set(chunks.map((c) => `${c.provider} ${c.model}`)), new Set([`openai ${MODEL}`]))
  const priced = chunks.flatMap((c, i) => (c.cost ? [i] : []))
  assert.deepEqual(priced, [chunks.length - 1], 'only the final usage chunk carries the cost')
  const last = chunks[chunks.length - 1]
  assert.ok(last.usage.completionTokens > 0)
  const cost = pico(last.cost.total)
  assert.ok(cost > 0n)
  // The server settles before it sends [DONE]: the balance is final already.
  assert.equal(pico((await client.balance()).balance), FIVE - cost)
  const [row] = (await client.usage()).data
  assert.equal(row.stream, true)
  assert.equal(row.status, 'completed')
  assert.equal(pico(row.cost), cost)
  const plain = await client.chat({ model: MODEL, messages: say('Say hello') })
  assert.equal(pico(plain.cost.total), cost, 'streamed and plain cost the same')
  assert.equal(pico(await user.balance()), FIVE - 2n * cost)
})

test('break closes the stream through the server to the provider, and what was delivered is billed', async () => {
  const { user, client } = await fresh()
  // The provider sends two events and then holds its stream open until the
  // server hangs up: once this client has gone and the drain bound (1 s
  // here) has passed without a usage report.
  await sim.fault('openai', 'stall=2')
  // Kept reachable, so only `break` (not finalization) can close it.
  const stream = client.chatStream({ model: MODEL, messages: say('Say hello') })
  let seen = 0
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk')
    seen += 1
    assert.equal(await sim.openStreams(), 1)
    break
  }
  assert.equal(seen, 1)
  // Promptly: client → server connection closed, server → provider dropped.
  await sim.waitNoOpenStreams(5000)
  assert.deepEqual(await stream.next(), { done: true, value: undefined })
  const [row] = await waitFor('the abandoned stream to be settled', async () => {
    const rows = await user.usage()
    return rows.length > 0 ? rows : null
  })
  assert.equal(row.stream, true)
  assert.equal(row.status, 'client_disconnected')
  assert.ok(pico(row.cost) > 0n)
  assert.equal(FIVE - pico((await client.balance()).balance), pico(row.cost))
})

test('an AbortSignal cancels a hosted stream', async () => {
  const { user, client } = await fresh()
  await sim.fault('openai', 'stall=2')
  const controller = new AbortController()
  let seen = 0
  await assert.rejects(async () => {
    for await (const _ of client.chatStream({ model: MODEL, messages: say('Say hello') }, { signal: controller.signal })) {
      seen += 1
      if (seen === 1) setTimeout(() => controller.abort(), 50)
    }
  }, (e) => e instanceof AbortError && e.code === 'aborted')
  assert.ok(seen >= 1)
  await sim.waitNoOpenStreams(5000)
  const [row] = await waitFor('the aborted stream to be settled', async () => {
    const rows = await user.usage()
    return rows.length > 0 ? rows : null
  })
  assert.equal(row.status, 'client_disconnected')
})

test('embeddings are charged too', async () => {
  const { client } = await fresh()
  const r = await client.embeddings({ model: 'openai/text-embedding-3-small', input: ['first text', 'second text'] })
  assert.equal(r.data.length, 2)
  assert.equal(r.provider, 'openai')
  assert.ok(r.data[0].embedding.length > 0)
  const cost = pico(r.cost.total)
  assert.ok(cost > 0n)
  assert.equal(pico((await client.balance()).balance), FIVE - cost)
  const [row] = (await client.usage()).data
  assert.equal(row.endpoint, 'embeddings')
  assert.equal(pico(row.cost), cost)
})

test('50 concurrent calls: the balance drops by the sum of their costs', async () => {
  const { client } = await fresh()
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) => client.chat({ model: MODEL, messages: say(`task ${i}`) })),
  )
  results.forEach((r, i) => assert.equal(r.choices[0].message.content, `Hello from the simulator. You said: task ${i}`))
  const total = results.reduce((sum, r) => sum + pico(r.cost.total), 0n)
  assert.equal(FIVE - pico((await client.balance()).balance), total)
  const page = await client.usage({ limit: 100 })
  assert.equal(page.data.length, 50)
  assert.equal(page.data.reduce((sum, r) => sum + pico(r.cost), 0n), total)
})

/** Asserts `promise` rejects with exactly `Class`, an IndoxRouterError with `code` and `status`. */
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
  assert.equal(err.code, code)
  assert.equal(err.status, status)
  assert.ok(!err.message.startsWith('ixr:'), err.message)
  return err
}

async function drain(stream) {
  for await (const _ of stream) {
    // errors surface on the first next()
  }
}

test('a bad key is an AuthenticationError and reaches no provider', async () => {
  const before = await sim.count()
  const client = new Client({ baseUrl: server.url, apiKey: 'ixr-not-a-real-key-0000000000', maxRetries: 0 })
  const err = await rejectsWith(client.chat({ model: MODEL, messages: say('hi') }), AuthenticationError, 'authentication', 401)
  assert.ok(!err.message.includes('ixr-not-a-real-key'))
  await rejectsWith(client.balance(), AuthenticationError, 'authentication', 401)
  await rejectsWith(client.usage(), AuthenticationError, 'authentication', 401)
  await rejectsWith(drain(client.chatStream({ model: MODEL, messages: say('hi') })), AuthenticationError, 'authentication', 401)
  assert.equal(await sim.count(), before)
})

test('out of credit is an InsufficientCreditsError and reaches no provider', async () => {
  const { client } = await fresh('0.000001')
  const before = await sim.count()
  const err = await rejectsWith(client.chat({ model: MODEL, messages: say('hi') }), InsufficientCreditsError, 'insufficient_quota', 402)
  assert.match(err.message, /insufficient/i)
  await rejectsWith(drain(client.chatStream({ model: MODEL, messages: say('hi') })), InsufficientCreditsError, 'insufficient_quota', 402)
  await rejectsWith(client.embeddings({ model: 'openai/text-embedding-3-small', input: 'long text '.repeat(1000) }), InsufficientCreditsError, 'insufficient_quota', 402)
  assert.equal((await client.balance()).balance, '0.000001')
  assert.equal(await sim.count(), before)
})

test('over the rate limit is a RateLimitError with retryAfter', async () => {
  const user = await server.makeUser('5')
  const key = await server.api('POST', '/api/v1/keys', { tier: 'tight' }, user.token)
  assert.equal(key.status, 201)
  const client = new Client({ baseUrl: server.url, apiKey: key.body.key, maxRetries: 0 })
  await client.chat({ model: MODEL, messages: say('hi') })
  const before = await sim.count()
  const err = await rejectsWith(client.chat({ model: MODEL, messages: say('hi') }), RateLimitError, 'rate_limited', 429)
  // One request a minute: the next fits about a minute after the first.
  assert.ok(err.retryAfter >= 1 && err.retryAfter <= 60, String(err.retryAfter))
  assert.equal(await sim.count(), before)
})

test('an unknown model is a ModelNotFoundError with suggestions', async () => {
  const { client } = await fresh()
  const before = await sim.count()
  const err = await rejectsWith(client.chat({ model: 'openai/gpt-4o-minii', messages: say('hi') }), ModelNotFoundError, 'model_not_found', 404)
  assert.ok(err instanceof NotFoundError)
  assert.ok(err.suggestions.includes('openai/gpt-4o-mini'), JSON.stringify(err.suggestions))
  await rejectsWith(drain(client.chatStream({ model: 'openai/gpt-4o-minii', messages: say('hi') })), ModelNotFoundError, 'model_not_found', 404)
  assert.equal(await sim.count(), before)
  assert.equal((await client.balance()).balance, '5')
})

test('direct mode has no balance', async () => {
  const direct = sim.client()
  assert.equal(direct.isHosted, false)
  await rejectsWith(direct.balance(), UnsupportedError, 'unsupported', 400)
  await rejectsWith(direct.usage(), UnsupportedError, 'unsupported', 400)
})

test('examples/node/hosted.ts runs against the server (API key and password)', async () => {
  // Type-stripped with the pinned TypeScript, written inside the package so
  // its `import … from 'indoxrouter'` resolves to this package (self-reference).
  const ts = (await import('typescript')).default
  const source = readFileSync(path.join(REPO_ROOT, 'examples', 'node', 'hosted.ts'), 'utf8')
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), `.hosted-example-${process.pid}.mjs`)
  writeFileSync(file, js)
  try {
    for (const auth of ['apiKey', 'password']) {
      const user = await server.makeUser('5')
      const env = { PATH: process.env.PATH, INDOXROUTER_BASE_URL: server.url }
      if (auth === 'apiKey') env.INDOXROUTER_API_KEY = user.key
      else Object.assign(env, { INDOXROUTER_USERNAME: user.name, INDOXROUTER_PASSWORD: user.password })
      const { stdout } = await run(process.execPath, [file], { env, timeout: 60_000 })
      assert.match(stdout, /Hello from the simulator\. You said: Hello! charged \d/, auth)
      assert.match(stdout, /stream charged \d/, auth)
      assert.match(stdout, /model_not_found 404 did you mean/, auth)
      assert.ok(pico(await user.balance()) < FIVE, auth)
    }
  } finally {
    rmSync(file, { force: true })
  }
})
