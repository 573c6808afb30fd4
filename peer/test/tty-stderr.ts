/** Loaded with `--import` into a command under test: it prints what it prints for a person at a terminal. */
Object.defineProperty(process.stderr, 'isTTY', { value: true })

export {}
