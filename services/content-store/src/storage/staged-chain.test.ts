import { partStraddling, stagedChain } from './staged-chain';

describe('stagedChain', () => {
  it('takes contiguous parts from 0, in order, and leaves the rest as strays', () => {
    const parts = [
      { start: 150, size: 10 },
      { start: 0, size: 100 },
      { start: 100, size: 20 },
      { start: 120, size: 0 },
    ];
    const { chain, durableSize, strays } = stagedChain(parts);
    expect(chain.map((p) => p.start)).toEqual([0, 100]);
    expect(durableSize).toBe(120);
    expect(strays.map((p) => p.start).sort((a, b) => a - b)).toEqual([120, 150]);
  });

  it('has nothing durable when no part starts at 0', () => {
    expect(stagedChain([{ start: 5, size: 5 }])).toMatchObject({ chain: [], durableSize: 0 });
  });
});

describe('partStraddling', () => {
  const chain = [
    { start: 0, size: 100 },
    { start: 100, size: 50 },
  ];

  it('finds the part an offset falls strictly inside', () => {
    expect(partStraddling(chain, 120)).toEqual({ start: 100, size: 50 });
  });

  it.each([0, 100, 150])('finds none at the boundary %d', (offset) => {
    expect(partStraddling(chain, offset)).toBeUndefined();
  });
});
