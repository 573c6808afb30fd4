import { measureTransport } from './transport.js'

export async function run(args: string[]): Promise<void> {
  const quick = args.includes('--quick')
  const total = (quick ? 256 : 1024) * 1024 * 1024
  for (let round = 0; round < 3; round++) {
    for (const transport of ['tcp', 'ws'] as const) {
      const r = await measureTransport(transport, total)
      console.log(transport, r.mbPerSec.toFixed(0), 'MB/s', 'client cpu/GiB', r.clientCpuPerGiB.toFixed(2), 'server cpu/GiB', r.serverCpuPerGiB.toFixed(2))
    }
  }
}
