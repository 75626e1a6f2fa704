import { describe, expect, it } from 'vitest';
import { LineSplitter } from './line-splitter.js';

const line = (text: string, truncatedChars = 0) => ({ text, truncatedChars });

describe('LineSplitter', () => {
  it('joins lines split across chunks and keeps the partial tail until the end', () => {
    const splitter = new LineSplitter(100);
    expect(splitter.push('one\ntw')).toEqual([line('one')]);
    expect(splitter.push('o\n\nthr')).toEqual([line('two'), line('')]);
    expect(splitter.push('ee')).toEqual([]);
    expect(splitter.end()).toEqual([line('three')]);
    expect(splitter.end()).toEqual([]);
  });

  it('strips a CR before the newline', () => {
    expect(new LineSplitter(100).push('dos\r\n')).toEqual([line('dos')]);
  });

  it('caps long lines and counts what it dropped, across chunks', () => {
    const splitter = new LineSplitter(4);
    expect(splitter.push('abcdef')).toEqual([]);
    expect(splitter.push('gh\nijklm\nok\n')).toEqual([
      line('abcd', 4),
      line('ijkl', 1),
      line('ok'),
    ]);
    expect(splitter.push('xxxxx')).toEqual([]);
    expect(splitter.end()).toEqual([line('xxxx', 1)]);
  });

  it('rejects a useless cap', () => {
    expect(() => new LineSplitter(0)).toThrow(RangeError);
  });
});
