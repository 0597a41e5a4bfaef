// Buffers delivery outcomes and appends them to audsync_deliveries in small batches. Writes are
// serialized: the warehouse's writer connection takes one statement at a time.
import type { DeliveryOutcome } from '../platforms/delivery/deliver.js';
import type { Warehouse } from '../warehouse/warehouse.js';

const FLUSH_AT = 200;

export class OutcomeWriter {
  private buffer: DeliveryOutcome[] = [];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly warehouse: Warehouse,
    private readonly table: string,
    private readonly runId: string,
    private readonly syncId: string,
  ) {}

  add(outcome: DeliveryOutcome): Promise<void> {
    this.buffer.push(outcome);
    return this.buffer.length >= FLUSH_AT ? this.flush() : Promise.resolve();
  }

  flush(): Promise<void> {
    const rows = this.buffer.splice(0).map((o) => ({
      run_id: this.runId,
      sync_id: this.syncId,
      op: o.op,
      first_row_id: o.firstRowId,
      last_row_id: o.lastRowId,
      row_count: o.rowCount,
      status: o.status,
      attempts: o.attempts,
      error_code: o.errorCode ?? null,
      error_message: o.errorMessage ?? null,
      finished_at: new Date(),
    }));
    this.writing = this.writing.then(() => this.warehouse.insertRows(this.table, rows));
    return this.writing;
  }
}
