/**
 * A local stand-in for the GCE metadata server that records every request: anything that reaches it
 * is an ADC / metadata lookup, which no test may make (nothing may leave this machine). `env()` points
 * the Google libraries at it and at a missing credentials file, inside an isolated CLI environment.
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {isolatedEnv} from './cli.js'

export interface MetadataTrap {
  hits: string[]
  env(dir: string, extra?: Record<string, string>): Record<string, string>
  stop(): Promise<void>
}

export async function startMetadataTrap(): Promise<MetadataTrap> {
  const hits: string[] = []
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`)
    res.writeHead(500).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const hostPort = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    hits,
    env: (dir, extra = {}) =>
      isolatedEnv({GCE_METADATA_HOST: hostPort, GCE_METADATA_IP: hostPort, GOOGLE_APPLICATION_CREDENTIALS: join(dir, 'no-adc.json'), ...extra}),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
