import { describe, expect, it } from 'vitest';
import { TaskLedger } from './task-ledger.js';

describe('TaskLedger', () => {
  it('reports a start once per key, and every start without a key', () => {
    const ledger = new TaskLedger();
    expect(ledger.claimStart('b', 'task-1')).toBe(true);
    expect(ledger.claimStart('b', 'task-1')).toBe(false);
    // Another bot keeps its own record.
    expect(ledger.claimStart('c', 'task-1')).toBe(true);
    expect(ledger.claimStart('b', 'task-2')).toBe(true);
    expect(ledger.claimStart('b', undefined)).toBe(true);
    expect(ledger.claimStart('b', undefined)).toBe(true);
  });

  it('lets a start whose report failed be tried again', () => {
    const ledger = new TaskLedger();
    ledger.claimStart('b', 'call-1');
    ledger.releaseStart('b');
    expect(ledger.claimStart('b', 'call-1')).toBe(true);
  });

  it('reports an end once per task id, and every end without one', () => {
    const ledger = new TaskLedger();
    expect(ledger.claimEnd('b', 'task-1')).toBe(true);
    expect(ledger.claimEnd('b', 'task-1')).toBe(false);
    expect(ledger.claimEnd('b', undefined)).toBe(true);
    expect(ledger.claimEnd('b', undefined)).toBe(true);
  });

  it('after an end, the same call id starts a new task; a new start allows the same end again', () => {
    const ledger = new TaskLedger();
    ledger.claimStart('b', 'call-1');
    ledger.claimEnd('b', 'task-1');
    expect(ledger.claimStart('b', 'call-1')).toBe(true);
    expect(ledger.claimEnd('b', 'task-1')).toBe(true);
  });
});
