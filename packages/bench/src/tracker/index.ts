export async function run(_args: string[]): Promise<void> {
  console.log('tracker scenario: not written yet')
}
