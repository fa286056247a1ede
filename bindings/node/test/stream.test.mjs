import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { AbortError, StreamInterruptedError, IndoxRouterError } from '../lib/index.mjs'
import { startSimulator, USER, REPLY } from './helpers.mjs'

let sim
let client
before(async () => {
  sim = await startSimulator()
  client = sim.client()
})
after(() => sim.stop())

test('for await yields typed chunks that add up to the answer, cost on the usage chunk', async () => {
  for (const model of ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4-5', 'google/gemini-2.5-flash', 'mistral/mistral-small-latest']) {
    let text = ''
    let last
    let chunks = 0
    for await (const chunk of client.chatStream({ model, messages: USER })) {
      chunks += 1
      text += chunk.choices[0]?.delta.content ?? ''
      if (chunk.usage) last = chunk
    }
    assert.match(text, /You said: Say hello to the world$/, model)
    assert.ok(chunks > 5, model)
    assert.equal(last.usage.completionTokens, 11, model)
    assert.equal(typeof last.cost.total, 'string', model)
  }
  const full = await client.chat({ model: 'openai/gpt-4o-mini', messages: USER })
  let cost
  for await (const chunk of client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER })) {
    if (chunk.cost) cost = chunk.cost
  }
  assert.deepEqual(cost, full.cost)
  assert.equal(full.choices[0].message.content, REPLY)
  await sim.waitNoOpenStreams()
})

test('nothing is sent until iteration starts', async () => {
  const before = await sim.count()
  const stream = client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER })
  await new Promise((r) => setTimeout(r, 50))
  assert.equal(await sim.count(), before)
  await stream.return()
  assert.equal(await sim.count(), before)
})

test('break closes the upstream stream (explicitly, not by garbage collection)', async () => {
  // The provider sends two events and then holds the connection open until
  // the client hangs up: only a real close brings the gauge back to zero.
  await sim.fault('openai', 'stall=2')
  // `stream` stays reachable until the end of the test, so neither it nor the
  // native stream inside it can be finalized: if the gauge drops, `break`
  // (the iterator's return()) closed the connection.
  const stream = client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER })
  let seen = 0
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk')
    seen += 1
    if (seen === 1) {
      assert.equal(await sim.openStreams(), 1)
      break
    }
  }
  await sim.waitNoOpenStreams(1000)
  // Still alive, and finished: a closed stream yields nothing more.
  assert.deepEqual(await stream.next(), { done: true, value: undefined })
})

test('an open stream that is neither broken nor aborted stays open', async () => {
  // The control for the test above: the same stalled stream, still referenced
  // and not closed, keeps its upstream connection for as long as we look.
  await sim.fault('openai', 'stall=2')
  const stream = client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER })
  const first = await stream.next()
  assert.equal(first.done, false)
  await new Promise((r) => setTimeout(r, 300))
  assert.equal(await sim.openStreams(), 1)
  await stream.return()
  await sim.waitNoOpenStreams(1000)
})

test('an AbortSignal cancels a pending chunk and closes the upstream stream', async () => {
  await sim.fault('openai', 'stall=2')
  const controller = new AbortController()
  const chunks = []
  await assert.rejects(async () => {
    for await (const chunk of client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER }, { signal: controller.signal })) {
      chunks.push(chunk)
      // The stream stalls after this; the abort lands while next() waits.
      if (chunks.length === 2) setTimeout(() => controller.abort(), 50)
    }
  }, (e) => e instanceof AbortError && e instanceof IndoxRouterError && e.code === 'aborted')
  assert.equal(chunks.length, 2)
  await sim.waitNoOpenStreams(1000)
})

test('an already aborted signal sends nothing', async () => {
  const before = await sim.count()
  const controller = new AbortController()
  controller.abort()
  await assert.rejects(async () => {
    for await (const _ of client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER }, { signal: controller.signal })) {
      assert.fail('no chunk expected')
    }
  }, AbortError)
  await assert.rejects(client.chat({ model: 'openai/gpt-4o-mini', messages: USER }, { signal: controller.signal }), AbortError)
  assert.equal(await sim.count(), before)
})

test('an AbortSignal cancels a non-streaming call in flight', async () => {
  await sim.fault('openai', 'slow=5000ms')
  const controller = new AbortController()
  const started = Date.now()
  setTimeout(() => controller.abort(), 100)
  await assert.rejects(client.chat({ model: 'openai/gpt-4o-mini', messages: USER }, { signal: controller.signal }), AbortError)
  assert.ok(Date.now() - started < 2000, 'abort must not wait for the provider')
})

test('a stream cut before its end marker is a StreamInterruptedError, never a silent end', async () => {
  await sim.fault('openai', 'cut=3')
  const chunks = []
  await assert.rejects(async () => {
    for await (const chunk of client.chatStream({ model: 'openai/gpt-4o-mini', messages: USER })) chunks.push(chunk)
  }, (e) => e instanceof StreamInterruptedError && e.code === 'stream_interrupted')
  assert.ok(chunks.length >= 1)
})
