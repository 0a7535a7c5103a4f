// The growth verdict of `npm run bench`: the exponent of a power law fitted on log–log.
import { describe, expect, it } from '@jest/globals'
import { growthExponent, growthVerdict } from './growth.js'

const pts = (f: (n: number) => number) => [2, 4, 8, 16, 32].map((n) => ({ n, value: f(n) }))

describe('growthExponent', () => {
  it('finds the exponent of an exact power law', () => {
    expect(growthExponent(pts((n) => 5 * n))).toBeCloseTo(1, 10)
    expect(growthExponent(pts((n) => 3 * n * n))).toBeCloseTo(2, 10)
    expect(growthExponent(pts(() => 42))).toBeCloseTo(0, 10)
  })

  it('a constant part makes it sublinear', () => {
    const k = growthExponent(pts((n) => 10_000 + 300 * n))!
    expect(k).toBeGreaterThan(0)
    expect(k).toBeLessThan(0.6)
  })

  it('skips missing, zero and non-finite values, and needs two distinct N', () => {
    expect(
      growthExponent([
        { n: 2, value: 4 },
        { n: 4, value: undefined },
        { n: 8, value: 0 },
        { n: 16, value: 32 }
      ])
    ).toBeCloseTo(1, 10)
    expect(growthExponent([{ n: 2, value: 4 }])).toBeUndefined()
    expect(
      growthExponent([
        { n: 4, value: 4 },
        { n: 4, value: 8 }
      ])
    ).toBeUndefined()
  })
})

describe('growthVerdict', () => {
  it('calls up to 1.1 linear or better, above it worse, and says when it could not tell', () => {
    expect(growthVerdict(pts((n) => n ** 1.05)).verdict).toBe('linear or better')
    expect(growthVerdict(pts((n) => n * (n - 1))).verdict).toBe('worse than linear')
    expect(growthVerdict([]).verdict).toBe('not measured')
  })
})
