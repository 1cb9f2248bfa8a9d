// One versioned schema change: SQL run as one script, in one transaction with its version's record.
export interface Migration {
  version: number;
  name: string;
  sql: string;
}
