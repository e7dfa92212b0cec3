/**
 * A generic local gRPC server for Google API protos: loads a package's bundled
 * `build/protos/protos.json` with @grpc/proto-loader, hosts the services you register on
 * 127.0.0.1 (insecure), logs every request and can inject failures and delays per method.
 * docs/testing.md#google-api-servers describes how the tests use it.
 */
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

/** Same conversions google-gax applies on the client side. */
const LOADER_OPTIONS: protoLoader.Options = {longs: String, enums: String, defaults: true, oneofs: true}
const definitions = new Map<string, protoLoader.PackageDefinition>()

/** The proto-loader definition of an npm package's bundled protos.json (cached). */
export function packageDefinition(pkg: string): protoLoader.PackageDefinition {
  let def = definitions.get(pkg)
  if (!def) {
    def = protoLoader.fromJSON(require(`${pkg}/build/protos/protos.json`), LOADER_OPTIONS)
    definitions.set(pkg, def)
  }
  return def
}

/** Serialize `value` as message `typeName` using any method of `pkg` that returns that type. */
export function encodeMessage(pkg: string, typeName: string, value: unknown): Buffer {
  const def = packageDefinition(pkg)
  const dot = typeName.lastIndexOf('.')
  const typePackage = typeName.slice(0, dot)
  const shortName = typeName.slice(dot + 1)
  for (const [name, entry] of Object.entries(def)) {
    if ('format' in entry || !name.startsWith(typePackage + '.')) continue
    for (const m of Object.values(entry as grpc.ServiceDefinition)) {
      const resp = (m as unknown as {responseType?: {type?: {name?: string}}}).responseType
      if (resp?.type?.name === shortName) return m.responseSerialize(value)
    }
  }
  throw new Error(`no method of ${pkg} returns ${typeName}`)
}

/** google.protobuf.Any wrapping `value` of message type `typeName` (full name). */
export function packAny(pkg: string, typeName: string, value: unknown): {typeUrl: string; value: Buffer} {
  return {typeUrl: `type.googleapis.com/${typeName}`, value: encodeMessage(pkg, typeName, value)}
}

/** Throw from a handler to answer with a gRPC status. */
export class GrpcFault extends Error {
  readonly code: grpc.status
  constructor(code: grpc.status, message: string) {
    super(message)
    this.code = code
  }
}

export type Handler = (request: any, metadata: grpc.Metadata) => unknown

export interface Registration {
  /** npm package whose protos.json defines the service. */
  pkg: string
  /** Fully qualified service, e.g. grafeas.v1.Grafeas */
  service: string
  /** Handlers by RPC name (GetService or getService). Unregistered RPCs answer UNIMPLEMENTED. */
  handlers: Record<string, Handler>
}

export interface LoggedRequest {
  /** Short service name, e.g. Grafeas */
  service: string
  /** RPC name as in the proto, e.g. ListNoteOccurrences */
  method: string
  request: any
  /** Request metadata (lower-case keys; binary values omitted). */
  metadata: Record<string, string>
}

interface Fault {
  code: grpc.status
  message: string
  times: number
}

interface Delay {
  ms: number
  times: number
}

export interface GrpcServerHandle<S> {
  port: number
  /** 127.0.0.1:PORT, for GcpOptions.endpoint */
  endpoint: string
  state: S
  requests: LoggedRequest[]
  /** Answer the next `times` (default 1) calls of `method` (e.g. ListNoteOccurrences) with `code`. */
  failNext(method: string, code: grpc.status, opts?: {times?: number; message?: string}): void
  /** Delay the next `times` (default 1) calls of `method` by `ms`. */
  delayNext(method: string, ms: number, opts?: {times?: number}): void
  /** Drop pending failNext/delayNext injections (call it in beforeEach). */
  clearFaults(): void
  /** Requests for one RPC. */
  calls(method: string): LoggedRequest[]
  stop(): Promise<void>
}

const norm = (method: string): string => method.charAt(0).toUpperCase() + method.slice(1)

export async function startGrpcServer<S>(registrations: readonly Registration[], state: S): Promise<GrpcServerHandle<S>> {
  const server = new grpc.Server()
  const requests: LoggedRequest[] = []
  const faults = new Map<string, Fault>()
  const delays = new Map<string, Delay>()
  const timers = new Set<NodeJS.Timeout>()

  const take = <T extends {times: number}>(map: Map<string, T>, method: string): T | undefined => {
    const v = map.get(method)
    if (!v) return undefined
    if (--v.times <= 0) map.delete(method)
    return v
  }

  for (const reg of registrations) {
    const def = packageDefinition(reg.pkg)[reg.service] as grpc.ServiceDefinition | undefined
    if (!def) throw new Error(`${reg.pkg} has no service ${reg.service}`)
    const shortService = reg.service.split('.').pop() ?? reg.service
    const impl: grpc.UntypedServiceImplementation = {}
    for (const [rpc, attrs] of Object.entries(def)) {
      if (attrs.requestStream || attrs.responseStream) continue
      const handler = reg.handlers[rpc] ?? reg.handlers[rpc.charAt(0).toLowerCase() + rpc.slice(1)]
      const fn: grpc.handleUnaryCall<any, any> = (call, callback) => {
        const metadata: Record<string, string> = {}
        for (const [k, v] of Object.entries(call.metadata.getMap())) if (typeof v === 'string') metadata[k] = v
        requests.push({service: shortService, method: rpc, request: call.request, metadata})
        const run = async (): Promise<void> => {
          const delay = take(delays, rpc)
          if (delay) {
            await new Promise<void>((resolve) => {
              const t = setTimeout(() => {
                timers.delete(t)
                resolve()
              }, delay.ms)
              timers.add(t)
            })
          }
          const fault = take(faults, rpc)
          if (fault) return callback({code: fault.code, details: fault.message})
          if (!handler) return callback({code: grpc.status.UNIMPLEMENTED, details: `${reg.service}/${rpc} is not implemented by the test server`})
          try {
            callback(null, await handler(call.request, call.metadata))
          } catch (err) {
            if (err instanceof GrpcFault) callback({code: err.code, details: err.message})
            else callback({code: grpc.status.INTERNAL, details: err instanceof Error ? err.message : String(err)})
          }
        }
        void run()
      }
      impl[rpc] = fn
      if (attrs.originalName) impl[attrs.originalName] = fn
    }
    server.addService(def, impl)
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)))
  })

  return {
    port,
    endpoint: `127.0.0.1:${port}`,
    state,
    requests,
    failNext(method, code, opts = {}) {
      faults.set(norm(method), {code, message: opts.message ?? `injected ${grpc.status[code]}`, times: opts.times ?? 1})
    },
    delayNext(method, ms, opts = {}) {
      delays.set(norm(method), {ms, times: opts.times ?? 1})
    },
    clearFaults() {
      faults.clear()
      delays.clear()
    },
    calls(method) {
      return requests.filter((r) => r.method === norm(method))
    },
    async stop() {
      for (const t of timers) clearTimeout(t)
      timers.clear()
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown()
          resolve()
        }, 1000)
        server.tryShutdown(() => {
          clearTimeout(force)
          resolve()
        })
      })
    },
  }
}
