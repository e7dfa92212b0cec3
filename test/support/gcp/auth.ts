/** An OAuth2Client holding a fixed, fake access token: no ADC, no metadata server, no refresh. */
import {OAuth2Client} from 'google-auth-library'

export const TEST_TOKEN = 'ya29.test-token-SHOULD-NEVER-BE-PRINTED'

export function fakeAuthClient(token = TEST_TOKEN): OAuth2Client {
  const client = new OAuth2Client()
  client.setCredentials({access_token: token, expiry_date: Date.now() + 3600_000})
  return client
}
