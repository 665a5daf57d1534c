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

/** What a choice puts in force. */
interface InForce {
  byName: Map<string, Policy>;
  defaultName: string;
  workspaces: Record<string, string>;
}

export class PolicyBook {
  private byName = new Map<string, Policy>();
  private defaultName = 'balanced';
  private workspaces: Record<string, string> = {};

  constructor(choice?: PolicyChoice, private readonly siteIds?: () => ReadonlySet<string>) {
    this.byName = merged([]);
    if (choice) {
      try {
        // Not held to the catalog in force: the file that adds a pinned site may be refused or not read
        // yet, and one such policy would take every other with it, residency rules included. A policy
        // pinned to a site that is gone places nothing and says why.
        this.apply(this.resolve(choice, undefined));
      } catch {
        // A stored choice that no longer validates at all: start from defaults.
      }
    }
  }

  /**
   * Replaces the user's policies and choices; throws PolicyError naming the policy and field, changing
   * nothing. `siteIds`: the sites a policy may name, when not the catalog's in force (one about to change).
   */
  configure(choice: Partial<PolicyChoice>, siteIds = this.siteIds?.()): void {
    this.apply(this.resolve(choice, siteIds));
  }

  /** Throws as configure would, changing nothing: a dry run for a caller that must check other settings too before applying any. */
  check(choice: Partial<PolicyChoice>, siteIds = this.siteIds?.()): void {
    this.resolve(choice, siteIds);
  }

  private apply({ byName, defaultName, workspaces }: InForce): void {
    this.byName = byName;
    this.defaultName = defaultName;
    this.workspaces = workspaces;
  }

  /** What configure would put in force; `siteIds`, when given, are the sites a policy may name. */
  private resolve(choice: Partial<PolicyChoice>, siteIds: ReadonlySet<string> | undefined): InForce {
    const byName = choice.policies ? merged(choice.policies, siteIds) : this.byName;
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

  /** The workspace's own choice; or, `everywhere` or without one, the default, which the workspace then follows. */
  setActive(name: string, workspace?: string, everywhere = false): void {
    this.get(name);
    if (workspace && !everywhere) {
      this.workspaces[workspace] = name;
      return;
    }
    this.defaultName = name;
    if (workspace) delete this.workspaces[workspace];
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
  // The later would replace the earlier unseen: which of the two the user meant is not ours to guess.
  const counts = new Map<string, number>();
  for (const policy of user) if (typeof policy?.name === 'string') counts.set(policy.name, (counts.get(policy.name) ?? 0) + 1);
  for (const [name, n] of counts) if (n > 1) errors.push(`policy "${name}": name is given to ${n} policies`);
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
