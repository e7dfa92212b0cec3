/** The published JSON Schemas (src/schemas/), compiled once, for validating real --json output. */
import {readFileSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import Ajv2020 from 'ajv/dist/2020.js'
import {ROOT} from './cli.js'

export type SchemaName = 'pin' | 'preflight' | 'scan' | 'apply' | 'run' | 'attest' | 'audit' | 'lint' | 'explain' | 'init' | 'error' | 'evidence'

let ajv: InstanceType<typeof Ajv2020.default> | undefined

function compiled(): InstanceType<typeof Ajv2020.default> {
  if (ajv) return ajv
  ajv = new Ajv2020.default({allErrors: true, strict: false})
  const dir = join(ROOT, 'src/schemas')
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.schema.json'))) ajv.addSchema(JSON.parse(readFileSync(join(dir, f), 'utf8')))
  return ajv
}

/** The schema's complaints about a --json document ([] when it conforms). */
export function schemaErrors(name: SchemaName, doc: unknown): unknown[] {
  const validate = compiled().getSchema(`https://safe-deploy.dev/schemas/${name}.schema.json`)
  if (!validate) throw new Error(`no schema ${name}`)
  return validate(doc) ? [] : (validate.errors ?? [])
}
