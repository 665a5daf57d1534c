// Region groups for residency constraints. A policy may name an exact region ("eu-central-1") or a
// group ("eu", "us"). Membership is decided from the region id alone, so a user site with a new region
// joins the right group without a table edit. Regions we cannot place (a router's "global", a
// provider-managed "us") belong only to the groups their name proves; residency errs towards refusing.

const GROUP_PREFIXES: Record<string, readonly string[]> = {
  eu: ['eu-', 'europe-', 'swedencentral', 'westeurope', 'northeurope', 'francecentral', 'germanywestcentral', 'italynorth', 'polandcentral', 'spaincentral', 'switzerlandnorth'],
  us: ['us', 'eastus', 'westus', 'centralus', 'northcentralus', 'southcentralus', 'westcentralus'],
  asia: ['asia-', 'ap-', 'japaneast', 'koreacentral', 'southeastasia', 'eastasia'],
};

export function regionGroups(): string[] {
  return Object.keys(GROUP_PREFIXES);
}

/** A bare prefix matches itself and its numbered or dashed variants ("eastus2", "us-east-1"), not "useless". */
function matches(region: string, prefix: string): boolean {
  if (prefix.endsWith('-')) return region.startsWith(prefix);
  if (!region.startsWith(prefix)) return false;
  const rest = region.slice(prefix.length);
  return rest === '' || rest.startsWith('-') || /^\d/.test(rest);
}

export function inGroup(region: string, group: string): boolean {
  // Own keys only: a region named "constructor" must not find Object.prototype's.
  return (Object.hasOwn(GROUP_PREFIXES, group) ? GROUP_PREFIXES[group] : []).some((p) => matches(region, p));
}

/** True when `region` is one of `allowed`, exactly or through a group. */
export function regionAllowed(region: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => a === region || inGroup(region, a));
}
