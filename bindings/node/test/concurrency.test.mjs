import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'

import { startSimulator } from './helpers.mjs'

let sim
let client
before(async () => {
  sim = await startSimulator()
  client = sim.client()
})
after(() => sim.stop())

test('100 concurrent calls each get their own answer', async () => {
  const before = await sim.count()
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
    client.chat({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `call number ${i}` }] })))
  results.forEach((r, i) => {
    assert.equal(r.choices[0].message.content, `Hello from the simulator. You said: call number ${i}`)
    assert.equal(typeof r.cost.total, 'string')
  })
  assert.equal(await sim.count(), before + 100)
})

test('100 concurrent streams', async () => {
  const texts = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
    let text = ''
    for await (const c of client.chatStream({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: `stream ${i}` }] })) {
      text += c.choices[0]?.delta.content ?? ''
    }
    return text
  }))
  texts.forEach((t, i) => assert.equal(t, `Hello from the simulator. You said: stream ${i}`))
  await sim.waitNoOpenStreams()
})

test('calls never block the event loop', async () => {
  await sim.fault('openai', 'slow=400ms')
  let ticks = 0
  const timer = setInterval(() => { ticks += 1 }, 10)
  const started = Date.now()
  await client.chat({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'slow' }] })
  clearInterval(timer)
  assert.ok(Date.now() - started >= 350)
  assert.ok(ticks >= 10, `timers must keep firing while a call is in flight (got ${ticks})`)
})
