import t from 'tap'

/** The type of `t` inside a subtest, for helpers that take one. */
export type TapTest = Parameters<Parameters<typeof t.test>[0]>[0]
