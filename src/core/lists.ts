/**
 * A comma-separated value as its items, each trimmed, empty ones dropped: how a list is written in a
 * wizard answer, an Argo CD plugin parameter or env entry, and Argo CD's KUBE_API_VERSIONS.
 */
export function commaList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}
