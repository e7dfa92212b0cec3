/** Worker thread for scanFiles: scans the stretches of YAML it is sent, replies with plain data. */
import {parentPort} from 'node:worker_threads'
import {SafeDeployError} from '../../core/errors.js'
import {scanPart} from '../../core/manifest/scan.js'
import {toPlainError, toPlainPart, withPlainEnv, type ScanReply, type ScanTask} from './protocol.js'

parentPort?.on('message', (task: ScanTask) => {
  let reply: ScanReply
  try {
    const part = withPlainEnv(() => scanPart(task.text, task.file, task.rules, task.origin, task.traits, {last: task.last}))
    reply = {id: task.id, ok: true, part: toPlainPart(part)}
  } catch (err) {
    const e = err instanceof SafeDeployError ? err : new SafeDeployError('INTERNAL', `scan worker: ${err instanceof Error ? err.message : String(err)}`)
    reply = {id: task.id, ok: false, error: toPlainError(e)}
  }
  parentPort?.postMessage(reply)
})
