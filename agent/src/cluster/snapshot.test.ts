import { describe, expect, it } from 'vitest';
import { agentAddress } from './snapshot.js';

describe('agentAddress', () => {
  it('is host:port, an IPv6 host in brackets, none without a host IP', () => {
    expect(agentAddress('10.0.0.7', 8080)).toBe('10.0.0.7:8080');
    expect(agentAddress('fd00::7', 8080)).toBe('[fd00::7]:8080');
    expect(agentAddress(undefined, 8080)).toBeUndefined();
  });
});
