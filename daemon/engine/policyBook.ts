// The named policies in force (built-in ones, overridden or extended by the user's) and which one is
// active globally and per workspace. Changes are validated whole before anything is replaced.

import type { Policy, PoliciesResult } from '../protocol';
import { regionAllowed } from '../catalog/regions';
import { builtinPolicies, validatePolicy } from './policies';

export class PolicyError extends Error {}

export interface PolicyChoice {
  policies: Policy[];
  defaultPolicy: string;
  workspacePolicies: Record<string, string>;
}

export class PolicyBook {
  private byName = new Map<string, Policy>();
  private defaultName = 'balanced';
  private workspaces: Record<string, string> = {};

  constructor(choice?: PolicyChoice, private readonly siteIds?: () => ReadonlySet<string>) {
    this.byName = merged([]);
    if (choice) {
      try {
        this.configure(choice);
      } catch {
        // A stored choice that no longer validates (a site id gone from the catalog): start from defaults.
      }
    }
  }

  /** Replaces the user's policies and choices; throws PolicyError naming the policy and field, changing nothing. */
  configure(choice: Partial<PolicyChoice>): void {
    const { byName, defaultName, workspaces } = this.resolve(choice);
    this.byName = byName;
    this.defaultName = defaultName;
    this.workspaces = workspaces;
  }

  /** Throws as configure would, changing nothing: a dry run for a caller that must check other settings too before applying any. */
  check(choice: Partial<PolicyChoice>): void {
    this.resolve(choice);
  }

  /** What configure would put in force. */
  private resolve(choice: Partial<PolicyChoice>): { byName: Map<string, Policy>; defaultName: string; workspaces: Record<string, string> } {
    const byName = choice.policies ? merged(choice.policies, this.siteIds?.()) : this.byName;
    const defaultName = choice.defaultPolicy ?? this.defaultName;
    if (!byName.has(defaultName)) throw new PolicyError(`default policy "${defaultName}" is not defined (known: ${[...byName.keys()].join(', ')})`);
    const workspaces = { ...(choice.workspacePolicies ?? this.workspaces) };
    for (const [workspace, name] of Object.entries(workspaces)) if (!byName.has(name)) delete workspaces[workspace];
    return { byName, defaultName, workspaces };
  }

  get(name: string): Policy {
    const policy = this.byName.get(name);
    if (!policy) throw new PolicyError(`unknown policy "${name}" (known: ${[...this.byName.keys()].join(', ')})`);
    return policy;
  }

  /** The policy that places a request when none of `policy`'s sites qualify; undefined without one. */
  fallbackOf(policy: Policy): Policy | undefined {
    return policy.fallback === undefined ? undefined : this.byName.get(policy.fallback);
  }

  active(workspace?: string): Policy {
    return this.get((workspace && this.workspaces[workspace]) || this.defaultName);
  }

  setActive(name: string, workspace?: string): void {
    this.get(name);
    if (workspace) this.workspaces[workspace] = name;
    else this.defaultName = name;
  }

  list(workspace?: string): PoliciesResult {
    const scoped = Boolean(workspace && this.workspaces[workspace]);
    return { policies: [...this.byName.values()], active: this.active(workspace).name, scope: scoped ? 'workspace' : 'global' };
  }

  choice(): PolicyChoice {
    const builtin = new Set(builtinPolicies().map((p) => JSON.stringify(p)));
    return {
      policies: [...this.byName.values()].filter((p) => !builtin.has(JSON.stringify(p))),
      defaultPolicy: this.defaultName,
      workspacePolicies: { ...this.workspaces },
    };
  }
}

/** Built-in policies, with the user's replacing any of the same name. */
function merged(user: readonly Policy[], siteIds?: ReadonlySet<string>): Map<string, Policy> {
  const errors = user.flatMap((policy) => validatePolicy(policy, siteIds));
  if (errors.length > 0) throw new PolicyError(errors.join('; '));
  const byName = new Map(builtinPolicies().map((p) => [p.name, p]));
  for (const policy of user) byName.set(policy.name, policy);
  const fallbacks = [...byName.values()].flatMap((policy) => fallbackProblems(policy, byName));
  if (fallbacks.length > 0) throw new PolicyError(fallbacks.join('; '));
  return byName;
}

/**
 * A fallback must exist and must not lead a request where its policy may not go: where the policy
 * limits regions or hardware, the fallback has to limit them to a subset (a residency rule that held
 * only while a site qualified would be no rule).
 */
function fallbackProblems(policy: Policy, byName: ReadonlyMap<string, Policy>): string[] {
  if (policy.fallback === undefined) return [];
  const at = `policy "${policy.name}": fallback`;
  const fallback = byName.get(policy.fallback);
  if (!fallback) return [`${at} names unknown policy "${policy.fallback}" (known: ${[...byName.keys()].join(', ')})`];
  if (fallback === policy) return [`${at} names the policy itself`];
  const problems: string[] = [];
  for (const limit of ['regions', 'hardware'] as const) {
    const allowed = policy.constraints?.[limit];
    if (!allowed) continue;
    const its = fallback.constraints?.[limit];
    const within = limit === 'regions' ? (v: string) => regionAllowed(v, allowed) : (v: string) => allowed.includes(v);
    if (!its || !its.every(within)) {
      problems.push(`${at} "${fallback.name}" may place outside constraints.${limit} [${allowed.join(', ')}] (its own: ${its ? `[${its.join(', ')}]` : 'any'}); give it ${limit} within them`);
    }
  }
  return problems;
}
