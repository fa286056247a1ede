// Direct mode: IndoxRouter calls the providers with your keys
// (OPENAI_API_KEY, ANTHROPIC_API_KEY, … from the environment).
//
//   cd bindings/node && npm ci && npm run build
//   npx tsx ../../examples/node/direct.ts   (or compile with tsc)
import {
  Client,
  RateLimitError,
  ModelNotFoundError,
  IndoxRouterError,
  type ChatMessage,
  type ChatResponse,
  type CostBreakdown,
  type Tool,
} from 'indoxrouter'

async function main(): Promise<void> {
  const client = new Client({ timeout: 30_000, maxRetries: 2 })

  const messages: ChatMessage[] = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: 'Say hello to the world' },
  ]

  // One call; the answer's cost is an exact decimal string.
  const reply: ChatResponse = await client.chat({
    model: 'openai/gpt-4o-mini',
    messages,
    maxTokens: 100,
    fallbacks: ['anthropic/claude-haiku-4-5'],
  })
  const cost: CostBreakdown | undefined = reply.cost
  console.log(reply.choices[0].message.content, cost ? `$${cost.total}` : '(unpriced)')

  // Streaming: `break` or the signal closes the upstream request.
  // (AbortSignal.timeout's timer does not keep the process alive.)
  const signal = AbortSignal.timeout(10_000)
  for await (const chunk of client.chatStream({ model: 'openai/gpt-4o-mini', messages }, { signal })) {
    process.stdout.write(chunk.choices[0]?.delta.content ?? '')
    if (chunk.cost) console.log(`\n$${chunk.cost.total}`)
  }

  // Tools, in OpenAI's shape; the returned message goes back as it is.
  const tools: Tool[] = [{
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  }]
  const first = await client.chat({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools })
  const call = first.choices[0].message.toolCalls?.[0]
  if (call) {
    const second = await client.chat({
      model: 'openai/gpt-4o-mini',
      tools,
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        first.choices[0].message as ChatMessage,
        { role: 'tool', tool_call_id: call.id, content: 'sunny, 21 °C' },
      ],
    })
    console.log(second.choices[0].message.content)
  }

  const embedded = await client.embeddings({ model: 'openai/text-embedding-3-small', input: ['hello', 'world'] })
  console.log(embedded.data.length, 'vectors of', embedded.data[0].embedding.length)

  const info = await client.model('openai/gpt-4o-mini')
  console.log(info.name, 'input $/M tokens:', info.pricing.input)
  const priced = await client.cost('openai/gpt-4o-mini', { promptTokens: 23, completionTokens: 18 })
  console.log('23 + 18 tokens cost', priced?.total) // 0.00001425

  try {
    await client.chat({ model: 'gpt-4o-mni', messages })
  } catch (e) {
    if (e instanceof ModelNotFoundError) console.log('did you mean', e.suggestions.join(', '))
    else if (e instanceof RateLimitError) console.log('retry after', e.retryAfter, 's')
    else if (e instanceof IndoxRouterError) console.log(e.code, e.status, e.message)
    else throw e
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
