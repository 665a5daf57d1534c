// What a request holds against the team's budgets, and the refusal when the team ledger cannot say.
// Kept apart from the ledger so that the chat service can name them without loading the PostgreSQL
// client, which a daemon loads only once a team ledger is set.

export interface TeamHold {
  readonly id: string;
  nanoUsd: number;
}

export class TeamLedgerUnavailableError extends Error {}
