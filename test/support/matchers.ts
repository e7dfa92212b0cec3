import {expect} from '@jest/globals'
import {SafeDeployError, type ErrorCode} from '../../src/core/errors.js'

declare module 'expect' {
  interface Matchers<R> {
    /** The function (or promise) throws a SafeDeployError with this code (and, optionally, a message matching re). */
    toThrowWithCode(code: ErrorCode, re?: RegExp): R
  }
}

function check(err: unknown, code: ErrorCode, re: RegExp | undefined): {pass: boolean; message: () => string} {
  if (!(err instanceof SafeDeployError)) {
    return {pass: false, message: () => `expected a SafeDeployError ${code}, got ${err instanceof Error ? err.stack : String(err)}`}
  }
  const pass = err.code === code && (re === undefined || re.test(err.message))
  return {pass, message: () => `expected SafeDeployError ${code}${re ? ' matching ' + re : ''}, got ${err.code}: ${err.message}`}
}

expect.extend({
  toThrowWithCode(received: unknown, code: ErrorCode, re?: RegExp) {
    if (received instanceof Promise) {
      return received.then(
        () => ({pass: false, message: () => `expected rejection with ${code}, but it resolved`}),
        (err: unknown) => check(err, code, re),
      ) as unknown as {pass: boolean; message: () => string}
    }
    if (typeof received !== 'function') return {pass: false, message: () => 'expected a function or a promise'}
    try {
      received()
    } catch (err) {
      return check(err, code, re)
    }
    return {pass: false, message: () => `expected a throw with ${code}, but nothing was thrown`}
  },
})
