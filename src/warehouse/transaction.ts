// BEGIN / work / COMMIT, ROLLBACK on failure, and nested work joining the open transaction: plan
// wraps everything, migrations included, in one transaction it rolls back. Engines differ only in
// the words, and in how a statement is run.
export interface TransactionState {
  open: boolean;
}

export async function inTransaction<T>(
  state: TransactionState,
  run: (sql: string) => Promise<void>,
  words: { begin: string; commit: string; rollback: string },
  work: () => Promise<T>,
): Promise<T> {
  if (state.open) return work();
  await run(words.begin);
  state.open = true;
  try {
    const result = await work();
    await run(words.commit);
    return result;
  } catch (error) {
    // A failed statement may already have ended the transaction; then ROLLBACK fails, harmlessly.
    await run(words.rollback).catch(() => undefined);
    throw error;
  } finally {
    state.open = false;
  }
}
