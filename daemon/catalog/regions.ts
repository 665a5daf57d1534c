// Region groups for residency constraints. A policy may name an exact region ("eu-central-1") or a
// group ("eu", "us"). Membership is decided from the region id alone, so a user site with a new region
// joins the right group without a table edit. Regions we cannot place (a router's "global", a
// provider-managed "us") belong only to the groups their name proves; residency errs towards refusing.

const EU = ['eu-', 'europe-', 'swedencentral', 'westeurope', 'northeurope', 'francecentral', 'germanywestcentral', 'italynorth', 'polandcentral', 'spaincentral'];

/**
 * Each group: the prefixes that put a region in it, and the regions those prefixes take in that it must
 * not. AWS's and Google's European prefixes include London and Zurich, which are in Europe but not the
 * EU: an "eu" residency rule must keep them out; "europe" takes them.
 */
const GROUPS: Record<string, { prefixes: readonly string[]; except?: readonly string[] }> = {
  eu: { prefixes: EU, except: ['eu-west-2', 'eu-central-2', 'europe-west2', 'europe-west6'] },
  europe: { prefixes: [...EU, 'uksouth', 'ukwest', 'switzerlandnorth', 'switzerlandwest', 'norwayeast', 'norwaywest'] },
  us: { prefixes: ['us', 'eastus', 'westus', 'centralus', 'northcentralus', 'southcentralus', 'westcentralus'] },
  // AWS files Sydney, Melbourne and Auckland under ap- too.
  asia: { prefixes: ['asia-', 'ap-', 'japaneast', 'koreacentral', 'southeastasia', 'eastasia'], except: ['ap-southeast-2', 'ap-southeast-4', 'ap-southeast-6'] },
};

export function regionGroups(): string[] {
  return Object.keys(GROUPS);
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
  if (!Object.hasOwn(GROUPS, group)) return false;
  const { prefixes, except = [] } = GROUPS[group];
  return prefixes.some((p) => matches(region, p)) && !except.some((x) => matches(region, x));
}

/** True when `region` is one of `allowed`, exactly or through a group. */
export function regionAllowed(region: string, allowed: readonly string[]): boolean {
  return allowed.some((a) => a === region || inGroup(region, a));
}
