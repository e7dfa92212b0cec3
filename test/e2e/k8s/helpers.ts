import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const DIGEST_A = 'sha256:' + 'a'.repeat(64)
export const DIGEST_B = 'sha256:' + 'b'.repeat(64)

export function tempDir(prefix = 'sd-k8s-'): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})}
}

export function deployment(name: string, image: string, opts: {namespace?: string; labels?: Record<string, string>; replicas?: number} = {}): string {
  const labels = JSON.stringify(opts.labels ?? {app: name})
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
${opts.namespace === undefined ? '' : `  namespace: ${opts.namespace}\n`}  labels: ${labels}
spec:
  replicas: ${opts.replicas ?? 1}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
        - name: ${name}
          image: ${image}
          ports:
            - containerPort: 8080
`
}

export function service(name: string, opts: {labels?: Record<string, string>} = {}): string {
  return `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  labels: ${JSON.stringify(opts.labels ?? {app: name})}
spec:
  selector: {app: ${name}}
  ports:
    - port: 80
      targetPort: 8080
`
}

export const join3 = (...docs: string[]): string => docs.join('---\n')
