/**
 * `npm run bench [-- <scenario>...]`: runs the named scenarios (all by default). Each
 * scenario prints its own table, with ratios against baselines measured in the same run.
 */
const SCENARIOS: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  tracker: () => import('./tracker/index.js'),
  transfer: () => import('./transfer/index.js'),
}

async function main(): Promise<void> {
  const args = process.argv.slice(2)
  const named = args.filter((a) => !a.startsWith('-'))
  const chosen = named.length > 0 ? named : Object.keys(SCENARIOS)
  for (const name of chosen) {
    const load = SCENARIOS[name]
    if (load === undefined) {
      console.error(`unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`)
      process.exitCode = 2
      return
    }
    console.log(`\n=== ${name} ===`)
    await (await load()).run(args.filter((a) => a.startsWith('-')))
  }
}

await main()
