// Hosted mode: every call goes through an IndoxRouter server, which holds
// the provider keys and charges your balance (server: `cargo run --release
// -p indoxrouter-server`; create a key with POST /api/v1/keys and scopes
// ["inference", "usage:read"] — balance and usage need the second).
//
//   INDOXROUTER_API_KEY=ixr-… node hosted.js        (after tsc, or with a TS runner)
//   INDOXROUTER_USERNAME=alice INDOXROUTER_PASSWORD=… node hosted.js
import { Client, InsufficientCreditsError, ModelNotFoundError } from 'indoxrouter'

const baseUrl = process.env.INDOXROUTER_BASE_URL ?? 'http://localhost:8000'
const model = 'openai/gpt-4o-mini'

async function connect(): Promise<Client> {
  const apiKey = process.env.INDOXROUTER_API_KEY
  if (apiKey) return new Client({ baseUrl, apiKey })
  // Logs in once; the token lasts the server's token lifetime (an hour by
  // default), so long-running programs should use an API key.
  return Client.login({
    baseUrl,
    username: process.env.INDOXROUTER_USERNAME ?? 'admin',
    password: process.env.INDOXROUTER_PASSWORD ?? '',
  })
}

async function main(): Promise<void> {
  const client = await connect()
  const { balance, available } = await client.balance() // exact decimal strings
  console.log({ balance, available })

  const r = await client.chat({ model, messages: [{ role: 'user', content: 'Hello!' }] })
  console.log(r.choices[0].message.content, 'charged', r.cost?.total) // the server's charge

  for await (const chunk of client.chatStream({ model, messages: [{ role: 'user', content: 'Count to five.' }] })) {
    process.stdout.write(chunk.choices[0]?.delta.content ?? '')
    if (chunk.cost) console.log('\nstream charged', chunk.cost.total) // last chunk, already settled
  }

  const emb = await client.embeddings({ model: 'openai/text-embedding-3-small', input: ['first', 'second'] })
  console.log(emb.data.length, 'vectors, charged', emb.cost?.total)

  const page = await client.usage({ limit: 10 }) // newest first; page.nextCursor for more
  for (const row of page.data) console.log(row.createdAt, row.endpoint, row.model, row.cost, row.status)

  try {
    await client.chat({ model: 'openai/gpt-4o-mni', messages: [{ role: 'user', content: 'hi' }] })
  } catch (e) {
    if (e instanceof ModelNotFoundError) console.log(e.code, e.status, 'did you mean', e.suggestions)
    else if (e instanceof InsufficientCreditsError) console.log('out of credit:', e.message)
    else throw e
  }
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
