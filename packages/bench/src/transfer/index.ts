export async function run(_args: string[]): Promise<void> {
  console.log('transfer scenario: not written yet')
}
