/** gcloud's defaults, read as gcloud resolves them (core/gcloud-config.ts), and where they rank (cli/options.ts). */
import {describe, expect, it} from '@jest/globals'
import {activeConfigFile, gcloudDefaults, parseGcloudProperties} from '../../../src/core/gcloud-config.js'
import {resolveSettings} from '../../../src/cli/options.js'

const config = '[core]\naccount = me@example.com\nproject = from-config\n\n# comment\n[run]\nregion = europe-west2\n'

describe('gcloud defaults', () => {
  it('parses the INI configuration file', () => {
    expect(parseGcloudProperties(config)).toEqual({core: {account: 'me@example.com', project: 'from-config'}, run: {region: 'europe-west2'}})
  })
  it('environment variables beat the active configuration, as in gcloud', () => {
    expect(gcloudDefaults({}, config)).toEqual({project: 'from-config', region: 'europe-west2'})
    expect(gcloudDefaults({CLOUDSDK_CORE_PROJECT: 'env', CLOUDSDK_RUN_REGION: 'us-east1'}, config)).toEqual({project: 'env', region: 'us-east1'})
    expect(gcloudDefaults({GOOGLE_CLOUD_PROJECT: 'adc'}, undefined)).toEqual({project: 'adc'})
    expect(gcloudDefaults({}, undefined)).toEqual({})
  })
  it('the active configuration: CLOUDSDK_ACTIVE_CONFIG_NAME, then active_config, then default', () => {
    expect(activeConfigFile({CLOUDSDK_ACTIVE_CONFIG_NAME: 'prod'}, 'dev\n')).toBe('configurations/config_prod')
    expect(activeConfigFile({}, 'dev\n')).toBe('configurations/config_dev')
    expect(activeConfigFile({}, undefined)).toBe('configurations/config_default')
  })
  it('rank after the flags and the profile', () => {
    const gcloud = {project: 'machine', region: 'us-east1'}
    expect(resolveSettings({}, undefined, gcloud)).toMatchObject({project: 'machine', region: 'us-east1', trust: {project: 'machine'}})
    expect(resolveSettings({}, {name: 'prod', project: 'profile'}, gcloud)).toMatchObject({project: 'profile', region: 'us-east1'})
    expect(resolveSettings({project: 'flag'}, {name: 'prod', project: 'profile'}, gcloud)).toMatchObject({project: 'flag'})
    // A policy file in force: the machine's project is not used to read the policy from the API.
    expect(resolveSettings({policy: 'p.yaml'}, undefined, gcloud).trust).toEqual({policy: 'p.yaml'})
  })
})
