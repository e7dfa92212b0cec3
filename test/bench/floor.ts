/**
 * The floors under `npm run bench`'s first row (pin 1,000 unique tags) and its install.yaml row: each part of a pin done alone by a bare Node
 * process, with nothing of safe-deploy loaded, so the row shows how much of the pin's time and CPU the fixed parts
 * cost by themselves (docs/testing.md#registry-timing).
 *
 *   node floor.js yaml FILE          the yaml library reads FILE (parseAllDocuments), as a fresh process does once
 *   node floor.js http HOST PATHS    one HEAD per line of the file PATHS to http://HOST through node:http's keep-alive
 *                                    agent, 16 at a time
 *
 * Both exit non-zero when something failed (a YAML error, fewer than two documents, a status other than 200), so that
 * the bench stops. bench.ts and large-install.ts run it (measure.ts FLOOR).
 */
import {readFileSync} from 'node:fs'
import http from 'node:http'
import {parseAllDocuments} from 'yaml'

const ACCEPT =
  'application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
const IN_FLIGHT = 16

async function heads(host: string, paths: readonly string[]): Promise<void> {
  const agent = new http.Agent({keepAlive: true, maxSockets: IN_FLIGHT})
  const head = (path: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request({host: host.split(':')[0], port: host.split(':')[1], path, method: 'HEAD', agent, headers: {Accept: ACCEPT}}, (res) => {
        res.resume()
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${path}: HTTP ${res.statusCode}`))))
      })
      req.on('error', reject)
      req.end()
    })
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < paths.length) await head(paths[next++] as string)
  }
  await Promise.all(Array.from({length: IN_FLIGHT}, worker))
  agent.destroy()
}

const [what, ...args] = process.argv.slice(2)
if (what === 'yaml') {
  const documents = parseAllDocuments(readFileSync(args[0] as string, 'utf8'))
  const error = documents.flatMap((d) => d.errors)[0]
  if (error) throw error
  // Both benches read a stream of documents: fewer than two means the file is not the one meant.
  if (documents.length < 2) throw new Error(`${args[0]}: ${documents.length} document(s), expected a stream`)
} else if (what === 'http') {
  const [host, file] = args
  await heads(
    host as string,
    readFileSync(file as string, 'utf8')
      .split('\n')
      .filter(Boolean),
  )
} else {
  throw new Error('usage: floor.js yaml FILE | floor.js http HOST PATHS_FILE')
}
